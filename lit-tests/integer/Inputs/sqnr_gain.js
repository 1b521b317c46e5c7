// node sqnr_gain.js REF.onnx A.onnx B.onnx MIN_DB [SEEDS]: the median over seeds (default 5,6,7:
// random inputs eval/compare.js makes, at ORT level all) of B's output SQNR against REF minus
// A's; prints it and exits 1 when it is below MIN_DB.
const { execFileSync } = require('child_process');
const path = require('path');
const [ref, a, b, minDb, seeds = '5,6,7'] = process.argv.slice(2);
const compare = path.join(__dirname, '..', '..', '..', 'eval', 'compare.js');
const sqnr = (model, seed) => {
  const out = execFileSync(process.execPath, [compare, ref, model, '--level', 'all', '--seed', seed, '--min-sqnr', '0'], { encoding: 'utf8' });
  const m = out.match(/^output .*: sqnr=(-?[\d.]+) dB/m);
  if (!m) throw new Error(`no SQNR in: ${out}`);
  return +m[1];
};
const gains = seeds.split(',').map((s) => sqnr(b, s) - sqnr(a, s)).sort((x, y) => x - y);
const median = gains[Math.floor(gains.length / 2)];
console.log(`sqnr gain ${median.toFixed(2)} dB (min ${minDb})`);
process.exit(median >= +minDb ? 0 : 1);

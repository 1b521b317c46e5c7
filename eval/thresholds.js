#!/usr/bin/env node
// Regenerates the fidelity floors of eval/thresholds.json from measurements, and prints how far
// each floor sits from the nearest wrong configuration.
//
//   node eval/thresholds.js [--from results.json] [--write]
//
// Without --from it runs scripts/eval.sh on the quick targets with the quick configurations plus
// every rival named in thresholds.json's "_rivals" (config -> configurations a regression would
// turn it into: per-tensor instead of per-channel, per-channel instead of blockwise, GPTQ off or
// unvalidated, sensitivity ignored), output in eval/out/thresholds. For each target/config with a
// rival, the floor is the measurement minus a margin of MARGIN_FRACTION of the gap to the nearest
// rival, at most MAX_MARGIN_DB: every rival then fails the floor by at least 60% of its gap.
// Cosine floors use the same rule on -10 log10(1 - cosine). A rival with the very same figures
// (the configuration changes nothing on that target), or a better one, is reported and left out
// of the gap; a floor with no rival below it is a problem.
// metric_min, flips_max and ratio_max are kept as they are (task metrics do not separate these
// configurations). --write replaces the floors in eval/thresholds.json and records the
// measurement, the nearest rival and the gap next to each.
// Exit status: 0, or 1 when some floor has no rival below it (a gap of 0 or less).
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const MARGIN_FRACTION = 0.4;
const MAX_MARGIN_DB = 1.0;
const ROOT = path.resolve(__dirname, '..');
const thresholdsPath = path.join(__dirname, 'thresholds.json');

function fail(msg) {
  console.error(`thresholds: error: ${msg}`);
  process.exit(2);
}

const args = process.argv.slice(2);
let from = null;
let write = false;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--from') from = args[++i];
  else if (args[i] === '--write') write = true;
  else fail(`unknown argument ${args[i]} (usage: node eval/thresholds.js [--from results.json] [--write])`);
}

const thresholds = JSON.parse(fs.readFileSync(thresholdsPath, 'utf8'));
const rivals = thresholds._rivals || {};
const quick = JSON.parse(fs.readFileSync(path.join(__dirname, 'configs.json'), 'utf8')).quick;

if (!from) {
  const configs = [...new Set([...quick.configs, ...Object.values(rivals).flat()])];
  const outDir = path.join(__dirname, 'out', 'thresholds');
  const r = spawnSync(path.join(ROOT, 'scripts', 'eval.sh'),
    ['--targets', quick.targets.join(','), '--configs', configs.join(','), '--out-dir', outDir, '--latency-runs', '1'],
    { stdio: 'inherit' });
  if (r.status !== 0) fail(`scripts/eval.sh exited with ${r.status}`);
  from = path.join(outDir, 'results.json');
}
// --from A.json,B.json: rows of later files replace those of earlier ones.
const parts = from.split(',').map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
const results = { ort: parts[0].ort, rows: parts.flatMap((p) => p.rows) };
const rowOf = (t, c) => results.rows.findLast((r) => r.target === t && r.config === c && !r.error);

// Fidelity figures in dB: SQNR as is, cosine as -10 log10(1 - cosine).
const cosDb = (c) => (c >= 1 ? Infinity : -10 * Math.log10(1 - c));
const fromCosDb = (d) => 1 - 10 ** (-d / 10);
const figures = [
  { key: 'sqnr_db', floor: 'sqnr_db_min', toDb: (v) => v, fromDb: (d) => Math.floor(d * 100) / 100, show: (v) => `${v.toFixed(2)} dB` },
  { key: 'cosine', floor: 'cosine_min', toDb: cosDb, fromDb: (d) => Math.floor(fromCosDb(d) * 1e7) / 1e7, show: (v) => v.toFixed(7) },
];

let problems = 0;
const lines = [];
for (const target of quick.targets) {
  for (const config of quick.configs) {
    const entry = thresholds[target] && thresholds[target][config];
    if (!entry || !rivals[config]) continue;
    const row = rowOf(target, config);
    if (!row) fail(`no result for ${target}/${config} in ${from}`);
    const measured = {};
    const nearest = {};
    for (const fig of figures) {
      if (entry[fig.floor] == null) continue;
      const value = row.fidelity[fig.key];
      let best = null;
      for (const rc of rivals[config]) {
        const rr = rowOf(target, rc);
        if (!rr) fail(`no result for the rival ${target}/${rc} in ${from}`);
        const rv = rr.fidelity[fig.key];
        if (rv === value) {
          lines.push(`${target}/${config} ${fig.key}: rival ${rc} measures the same ${fig.show(value)}: not distinguishable on this target`);
          continue;
        }
        const gap = fig.toDb(value) - fig.toDb(rv);
        if (gap < 0) {
          lines.push(`${target}/${config} ${fig.key}: NOTE: rival ${rc} measures better (${fig.show(rv)} vs ${fig.show(value)}): not a wrong configuration on this target`);
          continue;
        }
        if (!best || gap < best.gap) best = { config: rc, value: rv, gap };
      }
      if (!best || !(best.gap > 0)) {
        problems++;
        lines.push(`${target}/${config} ${fig.key}: PROBLEM: no rival below the measurement ${fig.show(value)}` +
          (best ? ` (${best.config} ${fig.show(best.value)})` : ''));
        continue;
      }
      const margin = Math.min(MAX_MARGIN_DB, MARGIN_FRACTION * best.gap);
      const floor = fig.fromDb(fig.toDb(value) - margin);
      const rivalBelow = fig.toDb(best.value) < fig.toDb(floor);
      if (!rivalBelow) problems++;
      lines.push(`${target}/${config} ${fig.key}: measured ${fig.show(value)}, floor ${fig.show(floor)} (margin ${margin.toFixed(2)} dB), ` +
        `nearest rival ${best.config} ${fig.show(best.value)}: gap ${best.gap.toFixed(2)} dB, rival ${(fig.toDb(floor) - fig.toDb(best.value)).toFixed(2)} dB below the floor${rivalBelow ? '' : ' PROBLEM'}`);
      entry[fig.floor] = floor;
      measured[fig.key] = value;
      nearest[fig.key] = { config: best.config, value: best.value, gap_db: Number(best.gap.toFixed(3)) };
    }
    entry._measured = measured;
    entry._nearest_rival = nearest;
  }
}
for (const l of lines) console.log(l);

if (write) {
  const commit = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
  thresholds._generated = `node eval/thresholds.js --write, ${new Date().toISOString().slice(0, 16)} UTC, onnx-opt at ${commit}, ` +
    `ONNX Runtime ${results.ort}; from ${path.relative(ROOT, path.resolve(from))}. Floor = measurement - min(${MAX_MARGIN_DB} dB, ` +
    `${MARGIN_FRACTION} x gap to the nearest rival) (cosine: on -10 log10(1 - cosine)).`;
  // One line per note and per target/config, as the file is written by hand.
  const out = Object.entries(thresholds).map(([k, v]) => (k.startsWith('_') || typeof v !== 'object' || Array.isArray(v)
    ? ` ${JSON.stringify(k)}: ${JSON.stringify(v)}`
    : ` ${JSON.stringify(k)}: {\n${Object.entries(v).map(([c, t]) => `  ${JSON.stringify(c)}: ${JSON.stringify(t)}`).join(',\n')}\n }`));
  fs.writeFileSync(thresholdsPath, `{\n${out.join(',\n')}\n}\n`);
  console.log(`thresholds: wrote ${path.relative(process.cwd(), thresholdsPath)}`);
}
if (problems) {
  console.error(`thresholds: ${problems} floors have no wrong configuration below them`);
  process.exit(1);
}

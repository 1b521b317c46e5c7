// bench/speed-plot.mjs: the latency plots in docs/plots/speed/ are what it renders from
// docs/speed-results.json, later files replace earlier rows, and the x axis is the latency.
import test from 'node:test';
import assert from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import { mergeSpeedRows, speedPlots } from '../speed-plot.mjs';

const ROOT = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..');

test('docs/plots/speed/*.svg are what bench/speed-plot.mjs renders from docs/speed-results.json', () => {
  const doc = JSON.parse(fs.readFileSync(path.join(ROOT, 'docs', 'speed-results.json'), 'utf8'));
  const plots = speedPlots(mergeSpeedRows(doc.documents));
  assert.ok(plots.size >= 5, `${plots.size} targets`);
  for (const [target, svg] of plots) {
    const file = path.join(ROOT, 'docs', 'plots', 'speed', `${target}.svg`);
    assert.ok(fs.existsSync(file), `${file} missing: node bench/speed-plot.mjs docs/speed-results.json --out-dir docs/plots/speed`);
    assert.strictEqual(fs.readFileSync(file, 'utf8'), svg, `${file} is stale: node bench/speed-plot.mjs docs/speed-results.json --out-dir docs/plots/speed`);
  }
});

test('a later file replaces the rows of the same target and config; points sit at their relative latency', () => {
  const row = (config, ms, sqnr) => ({ target: 't', config, latency_ms: ms, speedup: 10 / ms, bytes: 1e6, pipeline: config === 'fp32' ? null : 'p', fidelity: { sqnr_db: sqnr }, metric: { name: 'accuracy', value: 1 } });
  const rows = mergeSpeedRows([{ rows: [row('fp32', 10, 999), row('speed', 8, 30)] }, { rows: [row('speed', 5, 31)] }]);
  assert.deepStrictEqual(rows.map((r) => [r.config, r.latency_ms]), [['fp32', 10], ['speed', 5]]);
  const svg = speedPlots(rows).get('t');
  assert.match(svg, /latency against fidelity/);
  assert.match(svg, /latency relative to the fp32 file, same run/);
  // The faster config (blue) is left of fp32 (red, the reference) on the latency axis.
  const cx = (fill) => +svg.match(new RegExp(`<circle cx="([\\d.]+)" cy="[\\d.]+" r="4.5" fill="${fill}"`))[1];
  assert.ok(cx('#1f5fa8') < cx('#c0392b'), svg);
});

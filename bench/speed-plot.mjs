#!/usr/bin/env node
// Latency-vs-fidelity plots of the integer-inference benchmark (issue 15): one SVG per target
// from bench/speed.mjs --out files: latency relative to the fp32 file of the same run (median of
// its interleaved rounds) on a log x axis against the output SQNR on the real kernels (top) and
// the task metric (bottom), every config a labelled point and the trade-off frontier (no other
// point both faster and better) joined.
//
//   node bench/speed-plot.mjs RESULTS.json [MORE.json...] --out-dir DIR
//
// Each file is a bench/speed.mjs --out file or {"documents": [such files...]}; a later file's
// rows replace an earlier one's of the same target and config. docs/plots/speed/
// holds what this renders from docs/speed-results.json (bench/test/speed-plot.test.mjs checks).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../eval/package.json', import.meta.url));
const { svgPlot } = require('./plot.js');

// fp32 time / config time comes from one run's interleaved rounds, so rows of different runs
// (different loads) still compare: the axis is its inverse, fp32 = 1, lower is faster.
const LATENCY_AXIS = { of: (r) => (r.speedup > 0 ? 1 / r.speedup : 0), title: 'latency relative to the fp32 file, same run (log scale; ONNX Runtime 1.30, default level, 2 threads)', what: 'latency' };

// Rows of the files in order, a later (target, config) replacing an earlier one.
export function mergeSpeedRows(documents) {
  const byKey = new Map();
  for (const d of documents) for (const r of d.rows) byKey.set(`${r.target}\u0000${r.config}`, r);
  return [...byKey.values()];
}

// target -> SVG text.
export function speedPlots(rows) {
  const out = new Map();
  for (const target of [...new Set(rows.map((r) => r.target))]) {
    const trs = rows.filter((r) => r.target === target && !r.error && r.speedup > 0);
    const lower = trs.some((r) => r.metric && r.metric.name === 'CER');
    out.set(target, svgPlot(target, trs, { x: LATENCY_AXIS, labelled: trs.map((r) => r.config), metricLowerIsBetter: lower }));
  }
  return out;
}

function main(argv) {
  const files = [];
  let outDir = null;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out-dir') outDir = argv[++i];
    else files.push(argv[i]);
  }
  if (!files.length || !outDir) {
    console.error('usage: node bench/speed-plot.mjs RESULTS.json [MORE.json...] --out-dir DIR');
    process.exit(2);
  }
  // A bench/speed.mjs --out file, or a collection of them ({"documents": [...]}).
  const docs = files.flatMap((f) => {
    let j;
    try { j = JSON.parse(fs.readFileSync(f, 'utf8')); } catch (e) { console.error(`speed-plot: ${f}: ${e.message}`); process.exit(1); }
    return j.documents || [j];
  });
  fs.mkdirSync(outDir, { recursive: true });
  for (const [target, svg] of speedPlots(mergeSpeedRows(docs))) fs.writeFileSync(path.join(outDir, `${target}.svg`), svg);
  console.log(`speed-plot: wrote ${outDir}`);
}

if (import.meta.url === `file://${process.argv[1]}`) main(process.argv.slice(2));

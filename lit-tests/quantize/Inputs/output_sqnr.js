#!/usr/bin/env node
// Output SQNR of a quantized model against its reference, on seeded uniform [-1, 1) float32
// inputs (static shapes only):
//   node output_sqnr.js REF.onnx QUANT.onnx --min-db D [--seed S] [--dims NAME=V,...]
// Symbolic dims take their value from --dims (default 1).
// Prints "sqnr <output>: <dB>" per output; exits 1 when any output is below D, 2 on error.
'use strict';
const path = require('path');

const args = process.argv.slice(2);
const files = [];
let minDb = null;
let seed = 7;
const dims = {};
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--min-db') minDb = Number(args[++i]);
  else if (args[i] === '--seed') seed = Number(args[++i]) >>> 0;
  else if (args[i] === '--dims') {
    for (const kv of args[++i].split(',')) {
      const eq = kv.lastIndexOf('=');
      dims[kv.slice(0, eq)] = Number(kv.slice(eq + 1));
    }
  } else files.push(args[i]);
}
if (files.length !== 2 || minDb === null || Number.isNaN(minDb)) {
  console.error('usage: output_sqnr.js REF.onnx QUANT.onnx --min-db D [--seed S] [--dims NAME=V,...]');
  process.exit(2);
}
const ort = require(path.join(__dirname, '..', '..', '..', 'eval', 'node_modules', 'onnxruntime-node'));

// The seeded generator of eval/compare.js: the same seed gives the same inputs everywhere.
const { rng } = require(path.join(__dirname, '..', '..', '..', 'eval', 'rng.js'));

async function main() {
  const opts = { graphOptimizationLevel: 'basic' };
  const ref = await ort.InferenceSession.create(files[0], opts);
  const quant = await ort.InferenceSession.create(files[1], opts);
  const rand = rng(seed);
  const feeds = {};
  for (const meta of ref.inputMetadata) {
    if (meta.type !== 'float32') throw new Error(`input ${meta.name}: only float32 inputs`);
    const shape = meta.shape.map((d) => (typeof d === 'number' && d > 0 ? d : dims[d] || 1));
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = rand() * 2 - 1;
    feeds[meta.name] = new ort.Tensor('float32', data, shape);
  }
  const a = await ref.run(feeds);
  const b = await quant.run(feeds);
  let worst = Infinity;
  for (const name of ref.outputNames) {
    const x = a[name].data, y = b[name].data;
    let signal = 0, noise = 0;
    for (let i = 0; i < x.length; i++) {
      signal += x[i] * x[i];
      noise += (x[i] - y[i]) * (x[i] - y[i]);
    }
    const db = noise === 0 ? Infinity : 10 * Math.log10(signal / noise);
    console.log(`sqnr ${name}: ${db.toFixed(2)} dB`);
    worst = Math.min(worst, db);
  }
  if (!(worst >= minDb)) {
    console.log(`output_sqnr: FAIL: ${worst.toFixed(2)} dB below ${minDb} dB`);
    process.exit(1);
  }
  console.log(`output_sqnr: PASS: every output >= ${minDb} dB`);
}
main().catch((e) => {
  console.error(`output_sqnr: error: ${e && e.message ? e.message : e}`);
  process.exit(2);
});

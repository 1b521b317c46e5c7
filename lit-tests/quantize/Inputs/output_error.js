#!/usr/bin/env node
// Reads emitted models, not the pass's own report: runs the original and two quantized models in
// ONNX Runtime (level basic) on the same inputs and checks that BETTER's output error against the
// original is below MAX_RATIO (default 0.9) times WORSE's, for every listed output.
//   node output_error.js ORIG.onnx BETTER.onnx WORSE.onnx [--outputs a,b] [--max-ratio R]
//        [--calibration MANIFEST] [--seed S]
// Inputs: with --calibration, sample k of every graph input the onnx-opt-calibration-1 manifest
// lists (.npy, <f4 or <f2), for k below the largest sample count (an input with fewer samples
// repeats them; one it does not list is zeros); otherwise one set of seeded uniform [-1, 1)
// float32 inputs. Error = sum over samples of the squared difference.
// Prints one line per output; exits 1 when any output fails, 2 on error.
'use strict';
const fs = require('fs');
const path = require('path');

function fail(msg) {
  console.error(`output_error: error: ${msg}`);
  process.exit(2);
}
const args = process.argv.slice(2);
const files = [];
let outputs = null, maxRatio = 0.9, manifest = null, seed = 7;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--outputs') outputs = args[++i].split(',');
  else if (args[i] === '--max-ratio') maxRatio = Number(args[++i]);
  else if (args[i] === '--calibration') manifest = args[++i];
  else if (args[i] === '--seed') seed = Number(args[++i]) >>> 0;
  else files.push(args[i]);
}
if (files.length !== 3 || !(maxRatio > 0)) fail('usage: output_error.js ORIG.onnx BETTER.onnx WORSE.onnx [--outputs a,b] [--max-ratio R] [--calibration MANIFEST]');
const ort = require(path.join(__dirname, '..', '..', '..', 'eval', 'node_modules', 'onnxruntime-node'));
// The seeded generator of eval/compare.js: the same seed gives the same inputs everywhere.
const { rng } = require(path.join(__dirname, '..', '..', '..', 'eval', 'rng.js'));

function halfToFloat(h) {
  const s = h & 0x8000 ? -1 : 1, e = (h >>> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}
// NumPy .npy 1.0/2.0, little-endian float32 or float16, C order.
function readNpy(file) {
  const b = fs.readFileSync(file);
  if (b.toString('latin1', 1, 6) !== 'NUMPY') fail(`${file}: not a .npy file`);
  const len = b[6] === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = b[6] === 1 ? 10 : 12;
  const header = b.toString('latin1', start, start + len);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (/'fortran_order':\s*True/.test(header)) fail(`${file}: Fortran order`);
  const n = shape.reduce((x, y) => x * y, 1);
  const body = b.subarray(start + len);
  const data = new Float32Array(n);
  if (descr === '<f4') for (let i = 0; i < n; i++) data[i] = body.readFloatLE(4 * i);
  else if (descr === '<f2') for (let i = 0; i < n; i++) data[i] = halfToFloat(body.readUInt16LE(2 * i));
  else fail(`${file}: dtype ${descr}`);
  return new ort.Tensor('float32', data, shape);
}

async function main() {
  const opts = { graphOptimizationLevel: 'basic', logSeverityLevel: 3 };
  const [orig, better, worse] = await Promise.all(files.map((f) => ort.InferenceSession.create(f, opts)));
  const metas = orig.inputMetadata;
  const samples = [];
  if (manifest) {
    const j = JSON.parse(fs.readFileSync(manifest, 'utf8'));
    const dir = path.dirname(manifest);
    const count = Math.max(...metas.map((m) => (j.values[m.name] || []).length));
    if (!(count > 0)) fail(`${manifest} lists none of the inputs ${metas.map((m) => m.name).join(', ')}`);
    for (let k = 0; k < count; k++) {
      const feeds = {};
      for (const m of metas) {
        const list = j.values[m.name] || [];
        if (list.length) feeds[m.name] = readNpy(path.join(dir, list[k % list.length]));
        else feeds[m.name] = new ort.Tensor('float32', new Float32Array(m.shape.reduce((x, y) => x * y, 1)), m.shape);
      }
      samples.push(feeds);
    }
  } else {
    const rand = rng(seed);
    const feeds = {};
    for (const m of metas) {
      if (m.type !== 'float32') fail(`input ${m.name}: only float32 inputs`);
      const shape = m.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
      const data = new Float32Array(shape.reduce((x, y) => x * y, 1));
      for (let i = 0; i < data.length; i++) data[i] = rand() * 2 - 1;
      feeds[m.name] = new ort.Tensor('float32', data, shape);
    }
    samples.push(feeds);
  }
  const names = outputs || orig.outputNames;
  const err = { better: Object.fromEntries(names.map((n) => [n, 0])), worse: Object.fromEntries(names.map((n) => [n, 0])) };
  for (const feeds of samples) {
    const ref = await orig.run(feeds, names);
    for (const [key, sess] of [['better', better], ['worse', worse]]) {
      const out = await sess.run(feeds, names);
      for (const n of names) {
        const x = ref[n].data, y = out[n].data;
        for (let i = 0; i < x.length; i++) err[key][n] += (x[i] - y[i]) ** 2;
      }
    }
  }
  let bad = 0;
  for (const n of names) {
    const ratio = err.better[n] / err.worse[n];
    const ok = ratio < maxRatio;
    if (!ok) bad++;
    console.log(`output ${n}: error ${err.better[n].toExponential(3)} vs ${err.worse[n].toExponential(3)} (ratio ${ratio.toFixed(3)}) ${ok ? 'ok' : 'FAIL'}`);
  }
  if (bad) {
    console.log(`output_error: FAIL: ${bad} of ${names.length} outputs not below ${maxRatio} x the other model's error (${samples.length} samples)`);
    process.exit(1);
  }
  console.log(`output_error: PASS: ${names.length} outputs below ${maxRatio} x (${samples.length} samples)`);
}
main().catch((e) => fail(e && e.message ? e.message : e));

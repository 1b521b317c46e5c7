// Batching: several samples per ONNX Runtime call where every input's first dimension is
// symbolic gives the same statistics as one sample per call (the outputs are split back into
// samples before the helper sees them); outputs that do not split along the batch axis make the
// tool fall back to one sample per call.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const path = require('path');
const { writeNpz } = require('../lib/npy.js');
const { scratch, smallModel, runTool, readCalib, assertSameStatistics } = require('./helpers.js');

const BATCHED = `<ir_version: 8, opset_import: ["" : 13]>
main (float[N,4,6,6] x, float[N,8] a) => (float[N,3] y, float[N,8] g, float[8,N] t)
<float[8,4,3,3] wc = randn(seed: 1, std: 0.3), float[8,3] wm = randn(seed: 2, std: 0.3), float[8,8] wg = randn(seed: 3, std: 0.3)>
{
  c = Conv <pads = [1, 1, 1, 1], strides = [2, 2]> (x, wc)
  r = Relu (c)
  p = ReduceMean <axes = [2, 3], keepdims = 0> (r)
  y = MatMul (p, wm)
  g = Gemm (a, wg)
  t = Transpose (a)
  sh = Shape (x)
  f = Cast <to = 1> (sh)
}`;

function rng(seed) {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296 - 0.5; };
}

function writeSamples(dir, n) {
  fs.mkdirSync(dir, { recursive: true });
  const r = rng(11);
  for (let i = 0; i < n; i++) {
    writeNpz(path.join(dir, `s${String(i).padStart(2, '0')}.npz`), {
      x: { type: 'float32', dims: [1, 4, 6, 6], data: Float32Array.from({ length: 144 }, r) },
      a: { type: 'float32', dims: [1, 8], data: Float32Array.from({ length: 8 }, r) },
    });
  }
}

test('batches of samples give the statistics of one sample per run', () => {
  const dir = scratch();
  const model = smallModel(dir, BATCHED.replace(', float[8,N] t)', ')').replace('\n  t = Transpose (a)', ''));
  writeSamples(path.join(dir, 'samples'), 10);
  const run = (batch) => {
    const out = path.join(dir, `b${batch}.calib`);
    const r = runTool([model, '--samples', path.join(dir, 'samples'), '-o', out, '--batch', String(batch)]);
    assert.strictEqual(r.status, 0, r.stderr);
    return { c: readCalib(out), stderr: r.stderr };
  };
  const one = run(1), four = run(4);
  assert.match(one.stderr, /10 samples in 10 runs \(at most 1 per run\)/);
  // Two single runs learn the outputs' shapes (and that f = Cast(Shape(x)) depends on them
  // alone), then 4 + 4 samples.
  assert.match(four.stderr, /10 samples in 4 runs \(at most 4 per run\)/);
  assertSameStatistics(four.c, one.c);
  assert.strictEqual(four.c.weight('wc').hessians.held_out.length, 1);
  // The shape of one sample, [1, 4, 6, 6], not that of a batch.
  assert.deepStrictEqual([four.c.tensor('f').min, four.c.tensor('f').max, four.c.tensor('f').count], [1, 6, 40]);
});

test('an output whose first axis is not the batch: one sample per run, same statistics', () => {
  const dir = scratch();
  const model = smallModel(dir, BATCHED);
  writeSamples(path.join(dir, 'samples'), 6);
  const run = (batch) => {
    const out = path.join(dir, `b${batch}.calib`);
    const r = runTool([model, '--samples', path.join(dir, 'samples'), '-o', out, '--batch', String(batch)]);
    assert.strictEqual(r.status, 0, r.stderr);
    return { c: readCalib(out), stderr: r.stderr };
  };
  const one = run(1), three = run(3);
  assert.match(three.stderr, /outputs do not split along the first axis of a batch/);
  // Two single runs, the failed batch of 3, its 3 samples again, then the last one.
  assert.match(three.stderr, /6 samples in 7 runs \(at most 1 per run\)/);
  assertSameStatistics(three.c, one.c);
});

test('inputs with a fixed first dimension are not batched', () => {
  const dir = scratch();
  const model = smallModel(dir, BATCHED.replace(/\bN\b/g, '1'));
  writeSamples(path.join(dir, 'samples'), 3);
  const r = runTool([model, '--samples', path.join(dir, 'samples'), '-o', path.join(dir, 'f.calib'), '--batch', '8']);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stderr, /3 samples in 3 runs \(at most 1 per run; the inputs have a fixed first dimension\)/);
  assert.strictEqual(runTool([model, '--samples', path.join(dir, 'samples'), '-o', path.join(dir, 'g.calib'), '--batch', '0']).status, 2);
});

// --prepare: the statistics are measured on the graph a pipeline leaves (here simplify, which
// folds a per-channel Mul and Add into the Conv in front of them), so the ranges name that
// graph's tensors and hold its values; the file records the pipeline; a pipeline that fails is
// a clear error and writes no file.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const path = require('path');
const { writeNpy } = require('../lib/npy.js');
const { scratch, smallModel, runTool, readCalib } = require('./helpers.js');

const ort = require('onnxruntime-node');

const MODEL = `<
  ir_version: 8,
  opset_import: ["" : 13]
>
main (float[1,3,8,8] x) => (float[1,4,8,8] y)
<
  float[4,3,3,3] w = randn(seed: 5, std: 0.3),
  float[4] b = randn(seed: 6, std: 0.1),
  float[1,4,1,1] scale = {0.5, 2.0, 1.5, 0.25},
  float[1,4,1,1] shift = {1.0, -1.0, 0.5, 0.0}
>
{
  c = Conv <pads = [1, 1, 1, 1]> (x, w, b)
  m = Mul (c, scale)
  a = Add (m, shift)
  y = Relu (a)
}`;

function writeSamples(dir, n) {
  fs.mkdirSync(dir, { recursive: true });
  let s = 7;
  const out = [];
  for (let i = 0; i < n; i++) {
    const data = Float32Array.from({ length: 3 * 64 }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296 * 2 - 1; });
    writeNpy(path.join(dir, `s${i}.npy`), { type: 'float32', dims: [1, 3, 8, 8], data });
    out.push(data);
  }
  return out;
}

const names = (calib) => calib.index.tensors.map((t) => t.name).sort();

test('--prepare simplify: ranges of the simplified graph, with its values', async () => {
  const dir = scratch();
  const model = smallModel(dir, MODEL);
  const samples = writeSamples(path.join(dir, 'samples'), 4);

  const plain = path.join(dir, 'plain.calib');
  let r = runTool([model, '--samples', path.join(dir, 'samples'), '--what', 'ranges', '-o', plain]);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.ok(names(readCalib(plain)).includes('m'), `unprepared: ${names(readCalib(plain))}`);

  const prepared = path.join(dir, 'prepared.calib');
  r = runTool([model, '--samples', path.join(dir, 'samples'), '--what', 'ranges', '--prepare', 'simplify', '-o', prepared]);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stderr, /measuring the graph 'simplify' leaves/);
  const calib = readCalib(prepared);
  const got = names(calib);
  // simplify folded Mul and Add into the Conv: their outputs are gone, the Relu input remains.
  assert.ok(!got.includes('m') && !got.includes('a'), `prepared graph still has m/a: ${got}`);
  assert.ok(got.includes('x') && got.includes('y'), `${got}`);
  const reluInput = got.filter((n) => n !== 'x' && n !== 'y');
  assert.strictEqual(reluInput.length, 1, `one tensor between the fused Conv and Relu: ${got}`);
  assert.ok(names(readCalib(plain)).length === 5, `unprepared: x, c, m, a, y: ${names(readCalib(plain))}`);

  // Its range is the range of a = Add(Mul(Conv(x)), shift) in the original model (the
  // unprepared file's, whose maximum is also y = Relu(a)'s, run here).
  const sess = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'disabled' });
  let hi = -Infinity;
  for (const data of samples) {
    const res = await sess.run({ x: new ort.Tensor('float32', data, [1, 3, 8, 8]) });
    for (const v of res.y.data) hi = Math.max(hi, v);
  }
  const t = calib.tensor(reluInput[0]);
  const a = readCalib(plain).tensor('a');
  assert.ok(Math.abs(t.max - a.max) < 1e-4 * Math.max(1, Math.abs(a.max)), `max ${t.max} vs ${a.max}`);
  assert.ok(Math.abs(t.min - a.min) < 1e-4 * Math.max(1, Math.abs(a.min)), `min ${t.min} vs ${a.min}`);
  assert.ok(Math.abs(a.max - hi) < 1e-4 * Math.max(1, hi), `a.max ${a.max} vs y max ${hi}`);
  assert.strictEqual(JSON.stringify(calib.index).includes('"prepare":"simplify"'), true, 'the file records the pipeline');
});

test('--prepare with a pipeline that fails: one-line error, exit 2, no file', () => {
  const dir = scratch();
  const model = smallModel(dir, MODEL);
  writeSamples(path.join(dir, 'samples'), 1);
  const out = path.join(dir, 'x.calib');
  const r = runTool([model, '--samples', path.join(dir, 'samples'), '--prepare', 'no-such-pass', '-o', out]);
  assert.strictEqual(r.status, 2, r.stderr);
  assert.match(r.stderr, /onnx-opt-calibrate: error: onnx-opt -p 'no-such-pass' on .*: .*no-such-pass/);
  assert.ok(!fs.existsSync(out));
});

test('--prepare speed: the preparation of optimize-speed (opset 11 upgraded, BN folded)', () => {
  const dir = scratch();
  const bn = MODEL.replace('"" : 13', '"" : 11')
    .replace('float[1,4,1,1] shift = {1.0, -1.0, 0.5, 0.0}', 'float[4] bs = {1.0, 2.0, 0.5, 1.5}, float[4] bb = {0.1, 0.2, 0.3, 0.4}, float[4] bm = {0.5, -0.5, 1.0, 0.0}, float[4] bv = {1.0, 4.0, 0.25, 2.0}')
    .replace('a = Add (m, shift)', 'a = BatchNormalization <epsilon = 0.001> (m, bs, bb, bm, bv)');
  const model = smallModel(dir, bn);
  writeSamples(path.join(dir, 'samples'), 2);
  const out = path.join(dir, 'speed.calib');
  const r = runTool([model, '--samples', path.join(dir, 'samples'), '--what', 'ranges', '--prepare', 'speed', '-o', out]);
  assert.strictEqual(r.status, 0, r.stderr);
  const calib = readCalib(out);
  assert.deepStrictEqual(names(calib), ['c', 'x', 'y'], 'Mul and BatchNormalization folded into the Conv');
  assert.ok(JSON.stringify(calib.index).includes('"prepare":"optimize-speed{prepare-only=true}"'));
});

test('--prepare speed without --what measures what optimize-speed decides with', () => {
  const dir = scratch();
  const model = smallModel(dir, MODEL);
  writeSamples(path.join(dir, 'samples'), 2);
  const out = path.join(dir, 'speed.calib');
  const r = runTool([model, '--samples', path.join(dir, 'samples'), '--prepare', 'speed', '-o', out]);
  assert.strictEqual(r.status, 0, r.stderr);
  const { index } = readCalib(out);
  // The helper's statistics; layer noise and plan speed are index fields of their own (below).
  assert.deepStrictEqual([...index.statistics].sort(), ['hessians', 'ranges'], JSON.stringify(index.statistics));
  assert.ok(index.weights.some((w) => w.hessians), 'Hessians of the prepared graph measured (quantize-activations rounds with GPTQ)');
  assert.ok(index.layer_noise && Array.isArray(index.layer_noise.layers), 'layer_noise measured');
  assert.strictEqual(index.plan_speed.format, 'onnx-opt-plan-speed-1');
  assert.ok(Array.isArray(index.plan_speed.integer_nodes));
  assert.strictEqual(index.plan_speed.threads, 2);
  assert.strictEqual(index.plan_speed.spinning, true);
  // Without --prepare speed the default stays Hessians and ranges.
  const plain = path.join(dir, 'plain.calib');
  assert.strictEqual(runTool([model, '--samples', path.join(dir, 'samples'), '-o', plain]).status, 0);
  assert.deepStrictEqual(readCalib(plain).index.statistics, ['hessians', 'ranges']);
  assert.strictEqual(readCalib(plain).index.plan_speed, undefined);
});

test('--speed-threads and --speed-spinning: the plan is timed as the deployment runs it', () => {
  const dir = scratch();
  const model = smallModel(dir, MODEL);
  writeSamples(path.join(dir, 'samples'), 2);
  const out = path.join(dir, 'one.calib');
  const args = [model, '--samples', path.join(dir, 'samples'), '--what', 'ranges,plan-speed', '--prepare', 'speed', '-o', out];
  const r = runTool([...args, '--speed-threads', '1', '--speed-spinning', 'off']);
  assert.strictEqual(r.status, 0, r.stderr);
  const plan = readCalib(out).index.plan_speed;
  assert.strictEqual(plan.threads, 1);
  assert.strictEqual(plan.spinning, false);
  for (const [flag, value, message] of [['--speed-threads', '0', /--speed-threads needs a whole number >= 1/],
    ['--speed-threads', '1.5', /--speed-threads needs a whole number >= 1/], ['--speed-spinning', 'no', /--speed-spinning takes on or off, not 'no'/]]) {
    const bad = runTool([...args, flag, value]);
    assert.strictEqual(bad.status, 2, `${flag} ${value}: ${bad.stderr}`);
    assert.match(bad.stderr, message);
  }
});

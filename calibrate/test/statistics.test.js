// The statistics in the .calib file against a direct computation on a small model (Hessians of
// a padded Conv, a grouped strided Conv, a MatMul and a Gemm; ranges), quantize-weights reading
// the file (also after upgrade-opset and constants-to-initializers), refusing a file made from
// another model, sensitivities, and a file size independent of the sample count.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const path = require('path');
const { writeNpz, writeNpy } = require('../lib/npy.js');
const { scratch, onnxOpt, smallModel, runTool, readCalib, assertSameStatistics } = require('./helpers.js');

const ort = require('onnxruntime-node');

// Deterministic pseudo-random floats.
function rng(seed) {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296 - 0.5; };
}

// `n` samples for the small model: x, k (int64), on (bool).
function writeSamples(dir, n, seed = 1) {
  fs.mkdirSync(dir, { recursive: true });
  const r = rng(seed);
  const samples = [];
  for (let i = 0; i < n; i++) {
    const x = Float32Array.from({ length: 4 * 36 }, r);
    const s = { x: { type: 'float32', dims: [1, 4, 6, 6], data: x }, k: { type: 'int64', dims: [1], data: BigInt64Array.from([BigInt(1 + (i % 3))]) }, on: { type: 'bool', dims: [1], data: Uint8Array.from([i % 2]) } };
    writeNpz(path.join(dir, `s${String(i).padStart(3, '0')}.npz`), s);
    samples.push(s);
  }
  return samples;
}

// im2col rows of one [C, H, W] plane set (channels c0..c0+cn), kernel 3x3, pad 1, `stride`.
function patches(data, channels, hw, c0, cn, stride) {
  const out = [];
  const o = Math.floor((hw + 2 - 3) / stride) + 1;
  for (let oy = 0; oy < o; oy++) {
    for (let ox = 0; ox < o; ox++) {
      const row = [];
      for (let c = c0; c < c0 + cn; c++) {
        for (let ky = 0; ky < 3; ky++) {
          for (let kx = 0; kx < 3; kx++) {
            const y = oy * stride + ky - 1, x = ox * stride + kx - 1;
            row.push(y < 0 || x < 0 || y >= hw || x >= hw ? 0 : data[(c * hw + y) * hw + x]);
          }
        }
      }
      out.push(row);
    }
  }
  return out;
}

function addOuter(h, rows) {
  for (const v of rows) for (let i = 0; i < v.length; i++) for (let j = 0; j < v.length; j++) h[i][j] += v[i] * v[j];
}
const zeros = (k) => Array.from({ length: k }, () => new Float64Array(k));

function assertClose(file, direct, what) {
  let scale = 0, err = 0;
  for (let i = 0; i < direct.length; i++) {
    for (let j = 0; j < direct.length; j++) {
      scale = Math.max(scale, Math.abs(direct[i][j]));
      err = Math.max(err, Math.abs(file[i][j] - direct[i][j]));
    }
  }
  assert.ok(scale > 0, `${what}: direct H is zero`);
  assert.ok(err / scale < 1e-5, `${what}: max |H_file - H_direct| / max |H| = ${err / scale}`);
}

test('Hessians and ranges match a direct computation; quantize-weights reads them', async () => {
  const dir = scratch();
  const model = smallModel(dir);
  const samples = writeSamples(path.join(dir, 'samples'), 5);
  const calib = path.join(dir, 'm.calib');
  const r = runTool([model, '--samples', path.join(dir, 'samples'), '-o', calib]);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stderr, /statistics: 5\/5/);
  const c = readCalib(calib);
  assert.strictEqual(c.index.format, 'onnx-opt-calib-1');
  assert.deepStrictEqual(c.index.model.inputs.map((i) => [i.name, i.type, i.shape]), [['x', 'float', ['1', '4', '6', '6']], ['k', 'int64', ['1']], ['on', 'bool', ['1']]]);
  assert.strictEqual(c.index.samples.count, 5);

  // Direct: the layer inputs from ONNX Runtime (expose-activations), H computed here.
  const exposed = path.join(dir, 'exposed.onnx');
  assert.strictEqual(onnxOpt([model, '-p', 'expose-activations{min-elements=0}', '-o', exposed]).status, 0);
  const sess = await ort.InferenceSession.create(exposed);
  const H = { wc: zeros(36), wm: zeros(72) }, held = { wc: zeros(36), wm: zeros(72) };
  const Hg = [0, 1, 2, 3].map(() => zeros(18));
  const ranges = { x: [Infinity, -Infinity, 0], r: [Infinity, -Infinity, 0] };
  for (const [i, s] of samples.entries()) {
    const feeds = { x: new ort.Tensor('float32', s.x.data, s.x.dims), k: new ort.Tensor('int64', s.k.data, [1]), on: new ort.Tensor('bool', s.on.data, [1]) };
    const out = await sess.run(feeds);
    const rows = { wc: patches(s.x.data, 4, 6, 0, 4, 1), wm: [Array.from(out.z.data)] };
    for (const w of ['wc', 'wm']) { addOuter(H[w], rows[w]); if (i % 2 === 1) addOuter(held[w], rows[w]); }
    for (let g = 0; g < 4; g++) addOuter(Hg[g], patches(out.r.data, 8, 6, 2 * g, 2, 2));
    for (const [name, data] of [['x', s.x.data], ['r', out.r.data]]) {
      for (const v of data) { ranges[name][0] = Math.min(ranges[name][0], v); ranges[name][1] = Math.max(ranges[name][1], v); ranges[name][2]++; }
    }
  }
  const wc = c.weight('wc');
  // Hessians are float32 lower triangles (a quarter of dense float64), means float64.
  assert.deepStrictEqual([c.index.arrays[wc.hessians.hessian[0]].dtype, c.index.arrays[wc.hessians.hessian[0]].bytes], ['F32', (36 * 37 / 2) * 4]);
  assert.strictEqual(c.index.arrays[wc.hessians.input_mean[0]].dtype, 'F64');
  assert.strictEqual(wc.hessians.samples, 5);
  assert.strictEqual(wc.hessians.positions, 5 * 36);
  assertClose(c.hessian(wc.hessians.hessian[0]), H.wc, 'Conv wc');
  assertClose(c.hessian(wc.hessians.held_out[0]), held.wc, 'Conv wc held-out (odd samples)');
  const wg = c.weight('wg');
  assert.strictEqual(wg.hessians.groups, 4);
  for (let g = 0; g < 4; g++) assertClose(c.hessian(wg.hessians.hessian[g]), Hg[g], `grouped Conv wg group ${g}`);
  assertClose(c.hessian(c.weight('wm').hessians.hessian[0]), H.wm, 'MatMul wm');
  assertClose(c.hessian(c.weight('wgemm').hessians.hessian[0]), H.wm, 'Gemm wgemm (transB)');
  assert.strictEqual(c.weight('wm').uses.join(), 'y#1');
  assert.match(c.weight('wc').sha256, /^[0-9a-f]{64}$/);
  for (const name of ['x', 'r']) {
    const t = c.tensor(name);
    assert.ok(t, `range of ${name}`);
    // x exactly; r through two differently optimised ONNX Runtime sessions.
    const tol = name === 'x' ? 0 : 1e-5;
    assert.ok(Math.abs(t.min - ranges[name][0]) <= tol, `${name} min ${t.min} vs ${ranges[name][0]}`);
    assert.ok(Math.abs(t.max - ranges[name][1]) <= tol, `${name} max ${t.max} vs ${ranges[name][1]}`);
    assert.strictEqual(t.count, ranges[name][2]);
    const hist = c.array(t.histogram.array);
    assert.strictEqual(hist.reduce((a, b) => a + b, 0), ranges[name][2], `histogram of ${name} counts every value`);
    assert.ok(t.histogram.range >= Math.max(-t.min, t.max) && t.histogram.range / 2 < Math.max(-t.min, t.max));
  }
  assert.strictEqual(c.tensor('r').min, 0);

  // quantize-weights reads it: GPTQ for the 4 weights (without the held-out check, which 5
  // random samples may fail); upgrade-opset and constants-to-initializers in front of it change
  // nothing it checks.
  const pipeline = (extra) => `upgrade-opset{target=21},constants-to-initializers,quantize-weights{min-elements=0,block-size=8,gptq-validate=false,calibration="${calib}"${extra}}`;
  const q = onnxOpt([model, '-p', pipeline(''), '--stats', '-o', path.join(dir, 'q.onnx')]);
  assert.strictEqual(q.status, 0, q.stderr);
  assert.match(q.stderr, /\s4 gptq-weights/);
  // --stats leaves zero rows out: no weight fell back to plain rounding.
  assert.doesNotMatch(q.stderr, /gptq-fallback-rtn/);
});

test('a file made from another model is refused in one line; weights without data say why', () => {
  const dir = scratch();
  const model = smallModel(dir);
  writeSamples(path.join(dir, 'samples'), 2);
  const calib = path.join(dir, 'm.calib');
  assert.strictEqual(runTool([model, '--samples', path.join(dir, 'samples'), '-o', calib]).status, 0);
  const text = fs.readFileSync(path.join(__dirname, 'Inputs', 'small.onnxtxt'), 'utf8');
  const other = smallModel(dir, text.replace('randn(seed: 3, std: 0.1)', 'randn(seed: 9, std: 0.1)'));
  const q = onnxOpt([other, '-p', `upgrade-opset{target=21},quantize-weights{min-elements=0,block-size=8,calibration="${calib}"}`, '-o', path.join(dir, 'q.onnx')]);
  assert.notStrictEqual(q.status, 0);
  const lines = q.stderr.trim().split('\n');
  assert.strictEqual(lines.length, 1, q.stderr);
  assert.match(lines[0], /calibration file .*m\.calib was measured on another model: weight 'wm' holds other values \(SHA-256 differs\)/);
  const reshaped = smallModel(dir, text.replace('float[72,3] wm', 'float[72,4] wm').replace('float[1,3] y', 'float[1,4] y'));
  const q2 = onnxOpt([reshaped, '-p', `upgrade-opset{target=21},quantize-weights{min-elements=0,calibration="${calib}"}`, '-o', path.join(dir, 'q2.onnx')]);
  assert.match(q2.stderr, /weight 'wm' is \[72, ?4\] here, \[72, ?3\] in the file/);
  // A file without Hessians (--what ranges): each weight's report row says why it was rounded plainly.
  const ranges = path.join(dir, 'r.calib');
  assert.strictEqual(runTool([model, '--samples', path.join(dir, 'samples'), '-o', ranges, '--what', 'ranges']).status, 0);
  const report = path.join(dir, 'report.json');
  const q3 = onnxOpt([model, '-p', `upgrade-opset{target=21},quantize-weights{min-elements=0,block-size=8,calibration="${ranges}",report="${report}"}`, '--stats', '-o', path.join(dir, 'q3.onnx')]);
  assert.strictEqual(q3.status, 0, q3.stderr);
  for (const row of JSON.parse(fs.readFileSync(report, 'utf8')).weights) {
    assert.strictEqual(row.rounding, 'rtn');
    assert.match(row.rounding_note, /no calibration data: not measured \(--what without hessians\)/);
  }
});

test('samples: .npy for a one-input model; bad samples are named', () => {
  const dir = scratch();
  const one = smallModel(dir, `<ir_version: 8, opset_import: ["" : 13]>
main (float[2,16] x) => (float[2,8] y)
<float[16,8] w = randn(seed: 1, std: 0.1)>
{ y = MatMul (x, w) }`);
  fs.mkdirSync(path.join(dir, 'npy'));
  for (let i = 0; i < 3; i++) writeNpy(path.join(dir, 'npy', `${i}.npy`), { type: 'float64', dims: [2, 16], data: Float64Array.from({ length: 32 }, rng(i)) });
  const r = runTool([one, '--samples', path.join(dir, 'npy'), '-o', path.join(dir, 'one.calib')]);
  assert.strictEqual(r.status, 0, r.stderr);
  const c = readCalib(path.join(dir, 'one.calib'));
  assert.strictEqual(c.weight('w').hessians.positions, 6);
  // The small model takes three inputs: a .npy sample cannot serve it, a missing array is named.
  const three = smallModel(dir);
  const bad = runTool([three, '--samples', path.join(dir, 'npy'), '-o', path.join(dir, 'bad.calib')]);
  assert.strictEqual(bad.status, 2);
  assert.match(bad.stderr, /0\.npy: a \.npy sample serves a one-input model; this one takes x, k, on/);
  fs.mkdirSync(path.join(dir, 'npz'));
  writeNpz(path.join(dir, 'npz', 'a.npz'), { x: { type: 'float32', dims: [1, 4, 6, 6], data: new Float32Array(144) } });
  const missing = runTool([three, '--samples', path.join(dir, 'npz'), '-o', path.join(dir, 'bad.calib')]);
  assert.match(missing.stderr, /a\.npz: no array 'k' for the model input of that name/);
  assert.ok(!fs.existsSync(path.join(dir, 'bad.calib')), 'no file written on error');
});

test('64 samples give a file no larger than 16; --max-samples and --seed pick the samples', () => {
  const dir = scratch();
  const model = smallModel(dir);
  writeSamples(path.join(dir, 'samples'), 64, 7);
  const size = (n) => {
    const f = path.join(dir, `${n}.calib`);
    const r = runTool([model, '--samples', path.join(dir, 'samples'), '-o', f, '--max-samples', String(n), '--seed', '5']);
    assert.strictEqual(r.status, 0, r.stderr);
    assert.strictEqual(readCalib(f).index.samples.count, n);
    return fs.statSync(f).size;
  };
  const s16 = size(16), s64 = size(64);
  // Only the digits of the counts in the index may differ (docs/calibration.md); the data
  // section (Hessians, histograms) is the same size.
  assert.ok(s64 <= s16 + 16, `64 samples: ${s64} bytes, 16 samples: ${s16} bytes`);
  const dataBytes = (n) => { const c = readCalib(path.join(dir, `${n}.calib`)); return c.index.arrays.reduce((t, a) => t + a.bytes, 0); };
  assert.strictEqual(dataBytes(64), dataBytes(16));
  // --seed 5 shuffles: the first sample is not the first file.
  assert.notStrictEqual(readCalib(path.join(dir, '16.calib')).index.samples.first, 's000.npz');
  assert.match(readCalib(path.join(dir, '16.calib')).index.samples.files_sha256, /^[0-9a-f]{64}$/);
});

test('--what sensitivity: output noise per weight, read by mixed precision', () => {
  const dir = scratch();
  const model = smallModel(dir);
  writeSamples(path.join(dir, 'samples'), 4);
  const calib = path.join(dir, 's.calib');
  const probe = 'upgrade-opset{target=21},quantize-weights{min-elements=0,bits=4,block-size=8}';
  const r = runTool([model, '--samples', path.join(dir, 'samples'), '-o', calib, '--what', 'hessians,sensitivity', '--probe', probe]);
  assert.strictEqual(r.status, 0, r.stderr);
  const c = readCalib(calib);
  assert.deepStrictEqual(c.index.statistics, ['hessians', 'sensitivity']);
  assert.strictEqual(c.index.tensors.length, 0);
  const s = c.index.sensitivity;
  assert.strictEqual(s.format, 'onnx-opt-sensitivity-1');
  assert.deepStrictEqual(s.weights.map((w) => w.weight).sort(), ['wc', 'wg', 'wgemm', 'wm']);
  for (const w of s.weights) assert.ok(w.output_noise > 0 && w.weight_error > 0, JSON.stringify(w));
  const q = onnxOpt([model, '-p', `upgrade-opset{target=21},quantize-weights{min-elements=0,bits=4,block-size=8,target-size=0.5,sensitivity="${calib}"}`, '--stats', '-o', path.join(dir, 'q.onnx')]);
  assert.strictEqual(q.status, 0, q.stderr);
  const noSens = path.join(dir, 'h.calib');
  assert.strictEqual(runTool([model, '--samples', path.join(dir, 'samples'), '-o', noSens, '--what', 'hessians']).status, 0);
  const q2 = onnxOpt([model, '-p', `upgrade-opset{target=21},quantize-weights{min-elements=0,target-size=0.5,sensitivity="${noSens}"}`, '-o', path.join(dir, 'q2.onnx')]);
  assert.match(q2.stderr, /holds no sensitivities; make it with onnx-opt-calibrate --what \.\.\.,sensitivity/);
});

test('weights read inside If/Loop bodies: keyed by the graph owning them, no Hessian and why', () => {
  const dir = scratch();
  const model = smallModel(dir, fs.readFileSync(path.join(__dirname, '..', '..', 'lit-tests', 'quantize', 'subgraphs.onnxtxt'), 'utf8'));
  fs.mkdirSync(path.join(dir, 'samples'));
  for (let i = 0; i < 2; i++) {
    writeNpz(path.join(dir, 'samples', `${i}.npz`), {
      c: { type: 'bool', dims: [], data: Uint8Array.from([i]) }, n: { type: 'int64', dims: [], data: BigInt64Array.from([2n]) },
      x: { type: 'float32', dims: [2, 64], data: Float32Array.from({ length: 128 }, rng(i)) },
    });
  }
  const calib = path.join(dir, 'sub.calib');
  const r = runTool([model, '--samples', path.join(dir, 'samples'), '-o', calib]);
  assert.strictEqual(r.status, 0, r.stderr);
  const c = readCalib(calib);
  // w is an initializer of the main graph read in the Loop body; wt and k belong to the branches.
  assert.match(c.weight('w').graph, /^graph 'main'$/);
  assert.match(c.weight('wt').graph, /then_g/);
  for (const name of ['w', 'wt', 'k']) assert.match(c.weight(name).no_data, /read inside a subgraph/, name);
  const report = path.join(dir, 'report.json');
  const q = onnxOpt([model, '-p', `quantize-weights{min-elements=0,calibration="${calib}",report="${report}"}`, '-o', path.join(dir, 'q.onnx')]);
  assert.strictEqual(q.status, 0, q.stderr);
  const rows = JSON.parse(fs.readFileSync(report, 'utf8')).weights;
  assert.strictEqual(rows.length, 3);
  for (const row of rows) assert.match(row.rounding_note, /no calibration data: read inside a subgraph/);
});

test('--max-hessian-mb: weights measured in several passes give the statistics of one', () => {
  const dir = scratch();
  const model = smallModel(dir);
  writeSamples(path.join(dir, 'samples'), 4);
  const one = path.join(dir, 'one.calib'), many = path.join(dir, 'many.calib');
  assert.strictEqual(runTool([model, '--samples', path.join(dir, 'samples'), '-o', one]).status, 0);
  // 10.5 KB: wc (5.3 KB of float32 Hessians with the held-out half), wg (4 groups, 5.5 KB), wm
  // and wgemm (21 KB each) take a pass each.
  const r = runTool([model, '--samples', path.join(dir, 'samples'), '-o', many, '--max-hessian-mb', '0.01']);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stderr, /statistics \(pass 4\/4\)/);
  assert.match(r.stderr, /4 samples in 16 runs .*; 4 passes, Hessians of at most 0\.01 MB each/);
  assertSameStatistics(readCalib(many), readCalib(one));
  assert.deepStrictEqual(fs.readdirSync(dir).filter((f) => f.includes('spill')), [], 'the spill file is removed');
});

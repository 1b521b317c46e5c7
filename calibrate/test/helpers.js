// Shared by the onnx-opt-calibrate tests: binaries, a scratch folder, the small model, and an
// independent reader of the .calib format (docs/calibration.md).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const assert = require('node:assert');
const { spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const ONNX_OPT = process.env.ONNX_OPT || path.join(ROOT, 'build', 'driver', 'onnx-opt');
const TOOL = path.join(__dirname, '..', 'calibrate.js');

function scratch() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'calibrate-test-'));
}

function onnxOpt(args) {
  const r = spawnSync(ONNX_OPT, args, { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// The small test model as binary ONNX in `dir`.
function smallModel(dir, text = fs.readFileSync(path.join(__dirname, 'Inputs', 'small.onnxtxt'), 'utf8')) {
  const src = path.join(dir, `m${fs.readdirSync(dir).length}.onnxtxt`);
  fs.writeFileSync(src, text);
  const out = src.replace(/\.onnxtxt$/, '.onnx');
  const r = onnxOpt([src, '-o', out]);
  if (r.status !== 0) throw new Error(r.stderr);
  return out;
}

function runTool(args) {
  const env = { ...process.env, ONNX_OPT };
  const r = spawnSync(process.execPath, [TOOL, ...args, '--onnx-opt', ONNX_OPT], { encoding: 'utf8', env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// {index, array(id) -> Float32Array or Float64Array (by dtype), hessian(id) -> K x K nested
// arrays} of a .calib file.
function readCalib(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 0, 8) !== 'OOCALIB1') throw new Error(`${file}: no magic`);
  const len = Number(buf.readBigUInt64LE(8));
  const index = JSON.parse(buf.toString('utf8', 16, 16 + len));
  const start = 16 + len;
  const array = (id) => {
    const a = index.arrays[id];
    const copy = Buffer.from(buf.subarray(start + a.offset, start + a.offset + a.bytes));
    if (a.offset % 8 !== 0) throw new Error(`${file}: array ${id} starts at ${a.offset}, not a multiple of 8`);
    if (a.dtype === 'F32') return new Float32Array(copy.buffer, copy.byteOffset, a.bytes / 4);
    if (a.dtype !== 'F64') throw new Error(`${file}: array ${id} has dtype ${a.dtype}`);
    return new Float64Array(copy.buffer, copy.byteOffset, a.bytes / 8);
  };
  const hessian = (id) => {
    const k = index.arrays[id].shape[0];
    const packed = array(id);
    const h = Array.from({ length: k }, () => new Float64Array(k));
    let at = 0;
    for (let i = 0; i < k; i++) for (let j = 0; j <= i; j++) { h[i][j] = packed[at]; h[j][i] = packed[at]; at++; }
    return h;
  };
  return { index, array, hessian, weight: (name) => index.weights.find((w) => w.name === name), tensor: (name) => index.tensors.find((t) => t.name === name) };
}

const maxRelative = (x, y) => {
  let scale = 0, err = 0;
  for (let i = 0; i < x.length; i++) { scale = Math.max(scale, Math.abs(y[i])); err = Math.max(err, Math.abs(x[i] - y[i])); }
  return scale > 0 ? err / scale : err;
};

// Every statistic of `a` equals that of `b` (arrays to float32 rounding).
function assertSameStatistics(a, b) {
  assert.strictEqual(a.index.samples.count, b.index.samples.count);
  assert.strictEqual(a.index.weights.length, b.index.weights.length);
  for (const wa of a.index.weights) {
    const wb = b.weight(wa.name);
    assert.ok(wa.hessians && wb.hessians, `${wa.name} has Hessians`);
    for (const key of ['groups', 'k', 'samples', 'positions']) assert.strictEqual(wa.hessians[key], wb.hessians[key], `${wa.name} ${key}`);
    for (const list of ['hessian', 'held_out', 'input_mean']) {
      assert.strictEqual(wa.hessians[list].length, wb.hessians[list].length, `${wa.name} ${list}`);
      wa.hessians[list].forEach((id, g) => {
        const d = maxRelative(a.array(id), b.array(wb.hessians[list][g]));
        assert.ok(d < 1e-6, `${wa.name} ${list}[${g}]: relative difference ${d}`);
      });
    }
  }
  assert.deepStrictEqual(a.index.tensors.map((t) => t.name).sort(), b.index.tensors.map((t) => t.name).sort());
  for (const ta of a.index.tensors) {
    const tb = b.tensor(ta.name);
    assert.strictEqual(ta.count, tb.count, ta.name);
    assert.deepStrictEqual(ta.shape, tb.shape, `${ta.name}: the shape of one sample`);
    assert.ok(Math.abs(ta.min - tb.min) <= 1e-6 && Math.abs(ta.max - tb.max) <= 1e-6, `${ta.name} range`);
    assert.deepStrictEqual(Array.from(a.array(ta.histogram.array)), Array.from(b.array(tb.histogram.array)), `${ta.name} histogram`);
  }
}

module.exports = { ROOT, ONNX_OPT, TOOL, scratch, onnxOpt, smallModel, runTool, readCalib, assertSameStatistics };

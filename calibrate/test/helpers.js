// Shared by the onnx-opt-calibrate tests: binaries, a scratch folder, the small model, and an
// independent reader of the .calib format (docs/calibration.md).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
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

module.exports = { ROOT, ONNX_OPT, TOOL, scratch, onnxOpt, smallModel, runTool, readCalib };

#!/usr/bin/env node
// Load an ONNX model in OpenCV.js (cv.readNetFromONNX from the file's bytes), run it on seeded
// random inputs and compare every output with ONNX Runtime's for the same inputs.
//
//   node eval/opencv-run.js MODEL.onnx [--opencv 4.12|5] [--ref REF.onnx] [--seed S]
//                           [--dims N=1] [--input NAME=FILE.f32] [--baseline BASE.onnx]
//                           [--also-ref REF2.onnx] [--runs N] [--min-sqnr DB] [--level basic]
//                           [--print] [--quiet]
//
// The reference is ONNX Runtime on REF (default: MODEL itself, "ORT's same file"). Inputs are
// drawn exactly as compare.js draws them (same generator and seed), or read with --input from raw
// little-endian float32 files (eval/make-inputs.py writes them) of the input's static shape;
// float32 only, rank 2 ([rows, cols]) or rank 4 ([1, C, H, W], C of 1, 3 or 4: OpenCV.js builds
// 4-D blobs only through blobFromImage). Prints one line per output (its SQNR against ORT, or
// its values with --print) and one verdict line.
// --also-ref: each output's SQNR against ONNX Runtime on REF2 too (e.g. the fp32 model when REF
// is the quantized file). --baseline: OpenCV also runs BASE (e.g. the fp32 model) on the same inputs; each output's SQNR
// against BASE's in OpenCV is printed too. --runs N: OpenCV's forward time, median of N runs,
// MODEL and BASE interleaved, and their ratio.
// --opencv 4.6 runs Debian's python3-opencv (cv2.dnn, native, its default threads) through
// eval/opencv46_forward.py; 4.12 and 5 are OpenCV.js from npm (WebAssembly, one thread).
// Exit status: 0 every output at or above --min-sqnr (default 60 dB); 1 an output below it or of
// another size; 3 OpenCV cannot load the model; 4 OpenCV fails running it; 2 other errors.
'use strict';
const fs = require('fs');
const path = require('path');

function fail(msg, code = 2) {
  console.error(`opencv-run: error: ${String(msg).split('\n')[0]}`);
  process.exit(code);
}

let ort, shared;
try {
  ort = require('onnxruntime-node');
  shared = require('./compare.js');
} catch (e) {
  fail(`onnxruntime-node is not installed (cd ${__dirname} && npm ci)`);
}

function parseArgs(argv) {
  const a = { file: null, opencv: '4.12', ref: null, seed: 1, dims: {}, minSqnr: 60, level: 'basic',
    print: false, quiet: false, intLo: 0, intHi: 10, inputs: {}, baseline: null, alsoRef: null, runs: 0 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) fail(`${k} needs a value`);
      return argv[++i];
    };
    if (k === '--opencv') a.opencv = val();
    else if (k === '--ref') a.ref = val();
    else if (k === '--seed') a.seed = Number(val());
    else if (k === '--min-sqnr') a.minSqnr = Number(val());
    else if (k === '--level') a.level = val();
    else if (k === '--baseline') a.baseline = val();
    else if (k === '--also-ref') a.alsoRef = val();
    else if (k === '--runs') a.runs = Number(val());
    else if (k === '--input') {
      const [n, f] = val().split(/=(.*)/s);
      if (!n || !f) fail(`--input expects NAME=FILE, got '${n}'`);
      a.inputs[n] = f;
    } else if (k === '--print') a.print = true;
    else if (k === '--quiet') a.quiet = true;
    else if (k === '--dims') {
      for (const kv of val().split(',')) {
        const [n, v] = kv.split('=');
        if (!n || !/^\d+$/.test(v || '')) fail(`--dims expects NAME=INT, got '${kv}'`);
        a.dims[n] = Number(v);
      }
    } else if (k.startsWith('--')) fail(`unknown flag ${k}`);
    else if (a.file === null) a.file = k;
    else fail(`unexpected argument ${k}`);
  }
  if (a.file === null) fail('usage: opencv-run.js MODEL.onnx [--opencv 4.12|5] [--ref REF.onnx]');
  if (!Number.isInteger(a.runs) || a.runs < 0) fail(`--runs expects a count, got '${a.runs}'`);
  if (!['4.12', '5', '4.6'].includes(a.opencv)) fail(`--opencv expects 4.12, 5 or 4.6, got '${a.opencv}'`);
  return a;
}

async function loadOpenCv(version) {
  const dir = path.join(__dirname, 'node_modules', `opencv-js-${version}`);
  if (!fs.existsSync(dir)) fail(`OpenCV.js ${version} is not installed (cd ${__dirname} && npm ci)`);
  let cv = require(dir);
  if (cv instanceof Promise) cv = await cv;
  else if (!cv.Mat) await new Promise((resolve) => { cv.onRuntimeInitialized = resolve; });
  return { cv };  // wrapped: the module is a thenable that would resolve to itself forever
}

// OpenCV.js throws C++ exceptions as pointers: their message, on one line.
function cvMessage(cv, e) {
  const text = typeof e === 'number' ? cv.exceptionFromPtr(e).msg : (e && e.message) || String(e);
  return text.split('\n').map((l) => l.replace(/^>\s*/, '').trim()).filter(Boolean).join(' | ');
}

function toBlob(cv, name, shape, data) {
  if (shape.length === 2) return cv.matFromArray(shape[0], shape[1], cv.CV_32F, data);
  const [n, c, h, w] = shape;
  const types = { 1: cv.CV_32F, 3: cv.CV_32FC3, 4: cv.CV_32FC4 };
  if (shape.length !== 4 || n !== 1 || !(c in types)) {
    fail(`input '${name}' [${shape}]: OpenCV.js takes rank-2 inputs or [1, 1|3|4, H, W] ones`);
  }
  const hwc = new Float32Array(c * h * w);  // blobFromImage turns an HWC image into NCHW
  for (let ch = 0; ch < c; ch++) {
    for (let p = 0; p < h * w; p++) hwc[p * c + ch] = data[ch * h * w + p];
  }
  const image = cv.matFromArray(h, w, types[c], hwc);
  const blob = cv.blobFromImage(image, 1.0, new cv.Size(w, h), new cv.Scalar(0, 0, 0, 0), false, false);
  image.delete();
  return blob;
}

function readInput(meta, file) {
  const shape = meta.shape || [];
  if (!shape.every((d) => typeof d === 'number' && d >= 0)) {
    fail(`--input ${meta.name}: the input has dynamic dims [${shape}]; fix them with set-input-shapes`);
  }
  let bytes;
  try { bytes = fs.readFileSync(file); } catch (e) { fail(`--input ${meta.name}: cannot read ${file}: ${e.code || e.message}`); }
  const n = shape.reduce((x, y) => x * y, 1);
  if (bytes.length !== 4 * n) fail(`--input ${meta.name}: ${file} holds ${bytes.length} bytes, [${shape}] float32 needs ${4 * n}`);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = bytes.readFloatLE(4 * i);
  return new ort.Tensor('float32', data, shape);
}

function sqnr(x, y) {
  let signal = 0, noise = 0;
  for (let i = 0; i < x.length; i++) {
    signal += x[i] * x[i];
    noise += (x[i] - y[i]) * (x[i] - y[i]);
  }
  return noise === 0 ? Infinity : 10 * Math.log10(signal / noise);
}

// One OpenCV network: load (exit 3 on failure) and a forward over every output (exit 4).
function openNet(cv, a, file, feeds, outputNames) {
  let net;
  try {
    net = cv.readNetFromONNX1(new Uint8Array(fs.readFileSync(file)));
  } catch (e) { fail(`OpenCV ${a.opencv} cannot load ${file}: ${cvMessage(cv, e)}`, 3); }
  const blobs = Object.entries(feeds).map(([name, t]) => [name, toBlob(cv, name, t.dims.map(Number), t.data)]);
  const forward = () => {
    const got = {};
    try {
      for (const [name, blob] of blobs) net.setInput(blob, name);
      for (const name of outputNames) {
        const out = net.forward(name);
        got[name] = { dims: Array.from({ length: out.matSize.length }, (_, i) => out.matSize[i]), data: Float32Array.from(out.data32F) };
        out.delete();
      }
    } catch (e) { fail(`OpenCV ${a.opencv} failed running ${file}: ${cvMessage(cv, e)}`, 4); }
    return got;
  };
  return { forward };
}

// OpenCV 4.6: one python3-opencv process loads MODEL (and BASE), runs them and times them.
function runOpenCv46(a, files, feeds, outputNames) {
  const { spawnSync } = require('child_process');
  const os = require('os');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opencv46-'));
  try {
    const inputs = {};
    for (const [name, t] of Object.entries(feeds)) {
      const file = path.join(dir, `in.${Object.keys(inputs).length}.f32`);
      fs.writeFileSync(file, Buffer.from(Float32Array.from(t.data).buffer));
      inputs[name] = [file, t.dims.map(Number)];
    }
    const spec = path.join(dir, 'spec.json');
    fs.writeFileSync(spec, JSON.stringify({ models: files, inputs, outputs: outputNames, runs: a.runs, out_dir: dir }));
    const r = spawnSync('/usr/bin/python3', [path.join(__dirname, 'opencv46_forward.py'), spec], { encoding: 'utf8' });
    const line = (r.stdout || '').trim().split('\n').pop();
    let res;
    try { res = JSON.parse(line); } catch (e) {
      fail(`OpenCV 4.6 (python3-opencv, scripts/install-deps.sh --eval) did not answer: ${(r.stderr || '').trim().split('\n').pop()}`);
    }
    if (res.error === 'load') fail(`OpenCV 4.6 cannot load ${res.model}: ${res.message}`, 3);
    if (res.error === 'run') fail(`OpenCV 4.6 failed running ${res.model}: ${res.message}`, 4);
    const got = files.map((_, m) => {
      const g = {};
      outputNames.forEach((name, k) => {
        const b = fs.readFileSync(path.join(dir, `${m}.${k}.f32`));
        g[name] = { dims: res.dims[m][k], data: new Float32Array(b.buffer, b.byteOffset, b.length / 4) };
      });
      return g;
    });
    return { got, times: res.times_ms };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// Forward times in ms, the nets interleaved so load changes during the measurement hit all alike.
function timeInterleaved(nets, runs) {
  const times = nets.map(() => []);
  for (let i = 0; i < runs; i++) {
    nets.forEach((net, k) => {
      const t0 = process.hrtime.bigint();
      net.forward();
      times[k].push(Number(process.hrtime.bigint() - t0) / 1e6);
    });
  }
  return times;
}

function median(xs) {
  const s = [...xs].sort((p, q) => p - q);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const refFile = a.ref || a.file;
  const { cv } = a.opencv === '4.6' ? { cv: null } : await loadOpenCv(a.opencv);
  let session;
  try {
    session = await ort.InferenceSession.create(refFile, { graphOptimizationLevel: a.level, logSeverityLevel: 3 });
  } catch (e) { fail(`ONNX Runtime cannot load the reference ${refFile}: ${e.message}`); }
  const rand = shared.rng(a.seed);
  const feeds = {};
  for (const m of session.inputMetadata) {
    if (m.type !== 'float32') fail(`input '${m.name}' is ${m.type}; opencv-run feeds float32 only`);
    feeds[m.name] = m.name in a.inputs ? readInput(m, a.inputs[m.name])
      : shared.makeInput(m, shared.resolveShape(m, a.dims), rand, a);
  }
  for (const n of Object.keys(a.inputs)) if (!(n in feeds)) fail(`--input ${n}: the model has no input '${n}'`);
  let expected;
  try { expected = await session.run(feeds); } catch (e) { fail(`ONNX Runtime failed running ${refFile}: ${e.message}`); }
  let expected2 = null;
  if (a.alsoRef) {
    try {
      const s2 = await ort.InferenceSession.create(a.alsoRef, { graphOptimizationLevel: a.level, logSeverityLevel: 3 });
      expected2 = await s2.run(feeds);
    } catch (e) { fail(`ONNX Runtime failed on --also-ref ${a.alsoRef}: ${e.message}`); }
  }

  let got, baseGot = null, times = null;
  if (a.opencv === '4.6') {
    const r = runOpenCv46(a, a.baseline ? [a.file, a.baseline] : [a.file], feeds, session.outputNames);
    [got, baseGot = null] = r.got;
    times = r.times;
  } else {
    const net = openNet(cv, a, a.file, feeds, session.outputNames);
    const base = a.baseline ? openNet(cv, a, a.baseline, feeds, session.outputNames) : null;
    got = net.forward();
    if (base) baseGot = base.forward();
    if (a.runs > 0) times = timeInterleaved(base ? [net, base] : [net], a.runs);
  }

  let bad = 0;
  for (const name of session.outputNames) {
    const x = shared.toNumbers(expected[name]), y = got[name].data;
    const dims = expected[name].dims.map(Number);
    if (a.print) console.log(`output ${name} [${got[name].dims}]: ${Array.from(y, (v) => v.toPrecision(6)).join(' ')}`);
    if (x.length !== y.length) {
      console.log(`output ${name}: FAIL OpenCV gives [${got[name].dims}], ORT [${dims}]`);
      bad++;
      continue;
    }
    const db = sqnr(x, y);
    const ok = db >= a.minSqnr;  // NaN fails
    if (!ok) bad++;
    let vsBase = '';
    if (expected2) {
      const r = shared.toNumbers(expected2[name]);
      vsBase += r.length === y.length ? `, sqnr=${sqnr(r, y).toFixed(2)} dB vs also-ref in ORT` : ', also-ref size differs';
    }
    if (baseGot) {
      const b = baseGot[name].data;
      vsBase += b.length === y.length ? `, sqnr=${sqnr(b, y).toFixed(2)} dB vs baseline in OpenCV` : ', baseline size differs';
    }
    if (!a.quiet || !ok) console.log(`output ${name} [${dims}]: sqnr=${db.toFixed(2)} dB vs ORT ${ok ? 'ok' : 'FAIL'}${vsBase}`);
  }
  if (times) {
    const m = median(times[0]);
    const line = `latency: OpenCV ${a.opencv} median ${m.toFixed(2)} ms over ${a.runs} runs`;
    console.log(times[1] ? `${line}, baseline ${median(times[1]).toFixed(2)} ms, ratio ${(m / median(times[1])).toFixed(3)}` : line);
  }
  const n = session.outputNames.length;
  if (bad) {
    console.log(`opencv-run: FAIL: OpenCV ${a.opencv} loads ${a.file} but ${bad} of ${n} outputs are below ${a.minSqnr} dB`);
    process.exit(1);
  }
  console.log(`opencv-run: PASS: OpenCV ${a.opencv} loads and runs ${a.file}, ${n} outputs >= ${a.minSqnr} dB vs ORT`);
}

if (require.main === module) main().catch((e) => fail(e && e.message ? e.message : e));

// eval/opencv-task.js runs the harness' tasks through these.
module.exports = { loadOpenCv, cvMessage, toBlob };

#!/usr/bin/env node
// onnx-opt-calibrate: calibration statistics of an ONNX model on the user's own samples, for
// onnx-opt's quantize-weights{calibration=FILE} (GPTQ) and {sensitivity=FILE} (mixed precision).
//
//   onnx-opt-calibrate MODEL --samples DIR -o MODEL.calib
//                      [--what hessians,ranges,sensitivity,layer-noise,plan-speed]
//                      [--max-samples N] [--seed S] [--batch N] [--max-hessian-mb M]
//                      [--probe PIPELINE]... [--sensitivity-samples N] [--noise-samples N]
//                      [--speed-rounds R] [--speed-threads N] [--speed-spinning on|off]
//                      [--prepare PIPELINE|speed]
//   onnx-opt-calibrate MODEL --images DIR --size HxW [--layout NCHW|NHWC] [--mean R,G,B]
//                      [--std R,G,B] [--scale S] [--bgr] [--samples OUT] -o MODEL.calib ...
//   onnx-opt-calibrate MODEL --wav DIR [--wav-scale S] [--samples OUT] -o MODEL.calib ...
//
// Samples: DIR holds one .npz file per sample (numpy.savez), with an array per model input named
// after it (any dtype the input takes: float, int64, bool...; state inputs included), or one
// .npy file per sample for a one-input model. --images/--wav first convert photos (PNG/JPEG:
// bilinear resize to HxW, value = (pixel * scale - mean) / std, default scale 1/255) or 16 kHz
// recordings ([1, n] float32, times --wav-scale) into .npz samples (kept in --samples OUT when
// given). Samples run in ONNX Runtime (level basic) on the model with its layer inputs exposed
// as outputs, up to --batch N (default 8) samples of equal shapes per run when every input's
// first dimension is symbolic; the statistics stream to the C++ helper, which holds only them:
//   hessians     per weight of every Conv/MatMul/Gemm, H = sum x x^T of its inputs (GPTQ),
//   ranges       per float tensor, min/max and a 2048-bin histogram,
//   sensitivity  per weight, the output noise with only that weight quantized by each --probe
//                (default int4 block 32 asymmetric), on the first --sensitivity-samples samples,
//   layer-noise  (with ranges) per node quantize-activations would make integer, the output
//                noise with only that node quantized, on ORT's integer kernels, on the first
//                --noise-samples (default 4) samples (lib/layer-noise.js; quantize-activations'
//                min-output-sqnr budget reads it).
//   plan-speed   (with ranges) optimize-speed{calibration=FILE} on the measured graph, timed
//                against it in ORT (default level, --speed-threads intra-op threads, default 2,
//                pools spinning unless --speed-spinning off, interleaved, median of
//                --speed-rounds rounds, default 7) on the first --noise-samples samples; with a
//                speed-up below 1 quantize-activations keeps that plan float (lib/plan-speed.js).
// Default --what hessians,ranges; with --prepare speed, ranges,hessians,layer-noise,plan-speed
// (what optimize-speed's per-layer decisions and its GPTQ weight rounding read). --max-samples N: N samples (after --seed S
// shuffles the sorted files); --batch 1: one sample per run. --max-hessian-mb M (default 1024): weights whose
// Hessians take more are measured in several passes over the samples, M at a time.
// --prepare PIPELINE: measure the model as `onnx-opt MODEL -p PIPELINE` leaves it, so the
// statistics name the tensors of the graph a later pass quantizes; `--prepare speed` is the
// preparation optimize-speed applies before quantize-activations (optimize-speed{prepare-only=
// true}, so the two can never differ). The file records the pipeline. Progress on stderr.
// Binaries: --onnx-opt / $ONNX_OPT / PATH, --helper / $ONNX_OPT_CALIBRATE_HELPER / next to
// onnx-opt / PATH. The file format: docs/calibration.md.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const { readNpz, readNpy } = require('./lib/npy.js');
const { convertMedia } = require('./lib/media.js');
const { quoteOption, regexExact, withOptions, relativeNoise } = require('./lib/probe.js');
const { batchable, runSamples } = require('./lib/batch.js');
const { floatOutputs, measureLayerNoise, addToIndex } = require('./lib/layer-noise.js');
const { measurePlanSpeed } = require('./lib/plan-speed.js');

const DEFAULT_PROBE = 'quantize-weights{bits=4,block-size=32,symmetric=false}';
const STATISTICS = ['hessians', 'ranges', 'sensitivity', 'layer-noise', 'plan-speed'];
const SPEED_PREPARATION = 'optimize-speed{prepare-only=true}';

class UsageError extends Error {}
const fail = (msg) => { throw new UsageError(msg); };

function parseArgs(argv) {
  const a = { what: null, probes: [], maxSamples: 0, seed: null, batch: 8, maxHessianMb: 1024, layout: 'NCHW', scale: 1 / 255, wavScale: 1, sensitivitySamples: 16, noiseSamples: 4, speedRounds: 7, speedThreads: 2, speedSpinning: 'on', pos: [] };
  const takes = {
    '--samples': 'samples', '-o': 'output', '--output': 'output', '--what': 'what', '--max-samples': 'maxSamples',
    '--seed': 'seed', '--probe': 'probe', '--sensitivity-samples': 'sensitivitySamples', '--noise-samples': 'noiseSamples', '--speed-rounds': 'speedRounds', '--speed-threads': 'speedThreads', '--speed-spinning': 'speedSpinning', '--images': 'images',
    '--wav': 'wav', '--layout': 'layout', '--size': 'size', '--mean': 'mean', '--std': 'std', '--scale': 'scale',
    '--wav-scale': 'wavScale', '--onnx-opt': 'onnxOpt', '--helper': 'helper', '--prepare': 'prepare',
    '--batch': 'batch', '--max-hessian-mb': 'maxHessianMb',
  };
  const numbers = new Set(['maxSamples', 'seed', 'sensitivitySamples', 'noiseSamples', 'speedRounds', 'speedThreads', 'scale', 'wavScale', 'batch', 'maxHessianMb']);
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '-h' || k === '--help') a.help = true;
    else if (k === '--bgr') a.bgr = true;
    else if (takes[k]) {
      if (i + 1 >= argv.length) fail(`${k} needs a value`);
      const key = takes[k];
      let v = argv[++i];
      if (numbers.has(key)) {
        const n = Number(v);
        if (!Number.isFinite(n)) fail(`${k} needs a number, not '${v}'`);
        v = n;
      }
      if (key === 'probe') a.probes.push(v);
      else a[key] = v;
    } else if (k.startsWith('-')) fail(`unknown option ${k}`);
    else a.pos.push(k);
  }
  if (a.help) return a;
  if (a.pos.length !== 1) fail('give one model file (onnx-opt-calibrate --help)');
  if (!a.output) fail('-o FILE.calib is required');
  if (!a.samples && !a.images && !a.wav) fail('give --samples DIR (or --images / --wav DIR)');
  if (a.images && a.wav) fail('--images and --wav exclude each other');
  // optimize-speed's statistics by default for its preparation: the decisions read ranges,
  // layer noise and plan speed, the weight rounding (GPTQ) the Hessians.
  if (a.what === null) a.what = a.prepare !== undefined && ['speed', SPEED_PREPARATION].includes(a.prepare.trim()) ? 'ranges,hessians,layer-noise,plan-speed' : 'hessians,ranges';
  a.whatList = a.what.split(',').map((s) => s.trim()).filter(Boolean);
  for (const w of a.whatList) if (!STATISTICS.includes(w)) fail(`--what: unknown statistic '${w}' (${STATISTICS.join(', ')})`);
  if (!Number.isInteger(a.batch) || a.batch < 1) fail('--batch needs a whole number >= 1');
  if (a.whatList.includes('layer-noise') && !a.whatList.includes('ranges')) fail('--what layer-noise needs ranges too (the probes quantize with them)');
  if (a.whatList.includes('plan-speed') && !a.whatList.includes('ranges')) fail('--what plan-speed needs ranges too (the plan quantizes with them)');
  if (!Number.isInteger(a.noiseSamples) || a.noiseSamples < 1) fail('--noise-samples needs a whole number >= 1');
  if (!Number.isInteger(a.speedRounds) || a.speedRounds < 7) fail('--speed-rounds needs a whole number >= 7 (a median of at least 7 interleaved rounds)');
  if (!Number.isInteger(a.speedThreads) || a.speedThreads < 1) fail('--speed-threads needs a whole number >= 1');
  if (!['on', 'off'].includes(a.speedSpinning)) fail(`--speed-spinning takes on or off, not '${a.speedSpinning}'`);
  if (!(a.maxHessianMb > 0)) fail('--max-hessian-mb needs a positive number');
  if (a.probes.length === 0) a.probes.push(DEFAULT_PROBE);
  if (a.prepare !== undefined) {
    a.prepare = a.prepare.trim() === 'speed' ? SPEED_PREPARATION : a.prepare.trim();
    if (a.prepare === '') fail('--prepare needs a pipeline (or speed)');
  }
  if (a.images) {
    const m = /^(\d+)x(\d+)$/.exec(a.size || '');
    if (!m) fail('--images needs --size HxW (e.g. 224x224)');
    a.sizeHW = [Number(m[1]), Number(m[2])];
    if (!['NCHW', 'NHWC'].includes(a.layout)) fail('--layout is NCHW or NHWC');
    const triple = (s, d, flag) => {
      if (s === undefined) return d;
      const v = String(s).split(',').map(Number);
      if (v.length === 1) v.push(v[0], v[0]);
      if (v.length !== 3 || v.some((x) => !Number.isFinite(x))) fail(`${flag} takes one number or three (R,G,B)`);
      return v;
    };
    a.meanRGB = triple(a.mean, [0, 0, 0], '--mean');
    a.stdRGB = triple(a.std, [1, 1, 1], '--std');
    if (a.stdRGB.some((x) => x === 0)) fail('--std must not be 0');
  }
  return a;
}

function onPath(name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    const f = path.join(dir, name);
    try { fs.accessSync(f, fs.constants.X_OK); return f; } catch { /* next */ }
  }
  return null;
}

// The onnx-opt binary and the helper: option, environment, PATH, then this checkout's build/.
function findBinaries(a) {
  const repoBuild = path.resolve(__dirname, '..', 'build');
  const onnxOpt = a.onnxOpt || process.env.ONNX_OPT || onPath('onnx-opt') || path.join(repoBuild, 'driver', 'onnx-opt');
  const candidates = [a.helper, process.env.ONNX_OPT_CALIBRATE_HELPER,
    path.join(path.dirname(onnxOpt), 'onnx-opt-calibrate-helper'),
    path.join(path.dirname(onnxOpt), '..', 'calibrate', 'onnx-opt-calibrate-helper'),
    onPath('onnx-opt-calibrate-helper'), path.join(repoBuild, 'calibrate', 'onnx-opt-calibrate-helper')].filter(Boolean);
  const helper = candidates.find((f) => fs.existsSync(f));
  if (!helper) fail(`cannot find onnx-opt-calibrate-helper (tried ${candidates.join(', ')}); build onnx-opt or pass --helper`);
  return { onnxOpt, helper };
}

// Deterministic shuffle (mulberry32) of `items` by `seed`.
function shuffled(items, seed) {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

// The sample files of `dir` (.npz, or .npy for a one-input model), sorted, shuffled by --seed,
// at most --max-samples.
function listSamples(dir, a) {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) fail(`--samples ${dir}: not a folder`);
  let files = fs.readdirSync(dir).filter((f) => /\.(npz|npy)$/.test(f)).sort();
  if (files.length === 0) fail(`--samples ${dir}: no .npz or .npy files`);
  if (a.seed !== null) files = shuffled(files, a.seed);
  if (a.maxSamples > 0) files = files.slice(0, a.maxSamples);
  return files.map((f) => path.join(dir, f));
}

// ONNX element type names (DataTypeName) -> ONNX Runtime tensor types.
const ORT_TYPE = { float: 'float32', float16: 'float16', double: 'float64', int8: 'int8', int16: 'int16', int32: 'int32', int64: 'int64', uint8: 'uint8', uint16: 'uint16', uint32: 'uint32', uint64: 'uint64', bool: 'bool' };
const { TYPED } = require('./lib/npy.js');

// `arr` ({type, dims, data}) as the input `info` takes it: the same type, or converted when the
// values survive (float64 -> float32, any integer width -> another, 0/1 -> bool).
function convertFor(arr, info, where) {
  const want = ORT_TYPE[info.type];
  if (!want) fail(`${where}: model input '${info.name}' has type ${info.type}, which the tool cannot feed`);
  const shape = info.shape || [];
  if (shape.length && shape.length !== arr.dims.length) fail(`${where}: '${info.name}' is ${arr.dims.length}-D [${arr.dims}], the model takes ${shape.length}-D [${shape}]`);
  shape.forEach((d, i) => { if (/^\d+$/.test(d) && Number(d) !== arr.dims[i]) fail(`${where}: '${info.name}' is [${arr.dims}], the model takes [${shape}]`); });
  if (arr.type === want) return arr;
  const floats = ['float32', 'float64'];
  const ints = ['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'bool'];
  const ok = (floats.includes(arr.type) && floats.includes(want)) || (ints.includes(arr.type) && ints.includes(want));
  if (!ok) fail(`${where}: '${info.name}' is ${arr.type}, the model takes ${want}`);
  const Out = TYPED[want];
  const out = new Out(arr.data.length);
  const big = want === 'int64' || want === 'uint64';
  for (let i = 0; i < out.length; i++) {
    const v = arr.data[i];
    out[i] = big ? BigInt(v) : want === 'bool' ? (v ? 1 : 0) : Number(v);
  }
  return { type: want, dims: arr.dims, data: out };
}

// The feeds of one sample file for the model inputs `inputs`.
function loadFeeds(ort, file, inputs) {
  let arrays;
  if (file.endsWith('.npy')) {
    if (inputs.length !== 1) fail(`${file}: a .npy sample serves a one-input model; this one takes ${inputs.map((i) => i.name).join(', ')} (use .npz)`);
    arrays = { [inputs[0].name]: readNpy(file) };
  } else {
    arrays = readNpz(file);
  }
  const names = new Set(inputs.map((i) => i.name));
  for (const k of Object.keys(arrays)) if (!names.has(k)) fail(`${file}: array '${k}' is not a model input (inputs: ${[...names].join(', ')})`);
  const feeds = {};
  for (const info of inputs) {
    if (!arrays[info.name]) fail(`${file}: no array '${info.name}' for the model input of that name`);
    const t = convertFor(arrays[info.name], info, file);
    feeds[info.name] = new ort.Tensor(t.type, t.type === 'bool' ? Uint8Array.from(t.data) : t.data, t.dims);
  }
  return feeds;
}

// Progress on stderr: "\r"-updated on a terminal, a line every 5 s otherwise.
function progress(stage, total) {
  const t0 = Date.now();
  let last = 0;
  return (done, extra = '') => {
    const now = Date.now();
    const tty = process.stderr.isTTY;
    if (done < total && now - last < (tty ? 200 : 5000)) return;
    last = now;
    const elapsed = (now - t0) / 1000;
    const left = done > 0 ? (elapsed / done) * (total - done) : 0;
    const line = `onnx-opt-calibrate: ${stage}: ${done}/${total}${extra}, ${elapsed.toFixed(0)} s, ${done < total ? `about ${left.toFixed(0)} s left` : 'done'}`;
    if (tty) process.stderr.write(`\r${line}${done >= total ? '\n' : ''}`);
    else process.stderr.write(`${line}\n`);
  };
}

const ELEM = { float32: 1, float16: 10 };

// Frames to the helper (calibrate/helper/main.cc), waiting when its pipe is full.
class HelperStream {
  constructor(child) { this.child = child; }
  async write(buf) {
    if (!this.child.stdin.write(buf)) await new Promise((r) => this.child.stdin.once('drain', r));
  }
  async tensor(name, t) {
    const nameBuf = Buffer.from(name, 'utf8');
    const head = Buffer.alloc(16 + nameBuf.length + 8 * t.dims.length + 8);
    let p = 0;
    head.writeUInt32LE(1, p); p += 4;
    head.writeUInt32LE(nameBuf.length, p); p += 4;
    nameBuf.copy(head, p); p += nameBuf.length;
    head.writeUInt32LE(ELEM[t.type], p); p += 4;
    head.writeUInt32LE(t.dims.length, p); p += 4;
    for (const d of t.dims) { head.writeBigInt64LE(BigInt(d), p); p += 8; }
    head.writeBigUInt64LE(BigInt(t.data.byteLength), p);
    await this.write(head);
    await this.write(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  async endSample() { const b = Buffer.alloc(4); b.writeUInt32LE(2); await this.write(b); }
  async endPass() { const b = Buffer.alloc(4); b.writeUInt32LE(4); await this.write(b); }
  async finish(text) {
    const body = Buffer.from(text, 'utf8');
    const b = Buffer.alloc(12);
    b.writeUInt32LE(3, 0);
    b.writeBigUInt64LE(BigInt(body.length), 4);
    await this.write(Buffer.concat([b, body]));
    this.child.stdin.end();
  }
}

// Reads the helper's stdout line by line.
function lineReader(stream) {
  let buf = '';
  const waiting = [];
  const lines = [];
  let ended = false;
  stream.setEncoding('utf8');
  stream.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (waiting.length) waiting.shift()(line); else lines.push(line);
    }
  });
  stream.on('end', () => { ended = true; while (waiting.length) waiting.shift()(null); });
  return () => new Promise((r) => { if (lines.length) r(lines.shift()); else if (ended) r(null); else waiting.push(r); });
}

function runOnnxOpt(bin, input, pipeline, output) {
  const r = spawnSync(bin, [input, '-p', pipeline, '-o', output], { encoding: 'utf8' });
  if (r.error) fail(`cannot run ${bin}: ${r.error.message}`);
  if (r.status !== 0) fail(`onnx-opt -p '${pipeline}' on ${input}: ${(r.stderr || '').trim().split('\n').pop()}`);
}

// --what sensitivity: per weight and probe, the relative output noise with that weight alone
// quantized (an onnx-opt-sensitivity-1 document; the first probe's rows at the top level).
async function measureSensitivity(ort, a, bins, model, samples, refs, outputNames, scratch) {
  const probes = [];
  for (const probe of a.probes) {
    let pipeline;
    try { pipeline = withOptions(probe, `report=${quoteOption(path.join(scratch, 'all.json'))}`); } catch (e) { fail(`--probe: ${e.message}`); }
    runOnnxOpt(bins.onnxOpt, model, pipeline, path.join(scratch, 'all.onnx'));
    const rows = JSON.parse(fs.readFileSync(path.join(scratch, 'all.json'), 'utf8')).weights.filter((r) => r.format !== 'float');
    const tick = progress(`sensitivity (${probe})`, rows.length);
    const weights = [];
    for (const [k, r] of rows.entries()) {
      const probeFile = path.join(scratch, 'probe.onnx');
      const reportFile = path.join(scratch, 'probe.json');
      runOnnxOpt(bins.onnxOpt, model, withOptions(probe, `weights=${quoteOption(regexExact(r.weight))},report=${quoteOption(reportFile)}`), probeFile);
      const one = JSON.parse(fs.readFileSync(reportFile, 'utf8')).weights.find((x) => x.weight === r.weight && x.graph === r.graph);
      if (!one) fail(`probe of weight '${r.weight}' quantized nothing`);
      const sess = await ort.InferenceSession.create(probeFile, { graphOptimizationLevel: 'basic', logSeverityLevel: 3 });
      const outs = [];
      for (const feeds of samples) outs.push(floatOutputs(await sess.run(feeds, outputNames), outputNames));
      await sess.release?.();
      weights.push({ graph: r.graph, weight: r.weight, output_noise: +relativeNoise(refs, outs).toPrecision(6), weight_error: +one.relative_error.toPrecision(6), bytes_before: one.bytes_before });
      tick(k + 1);
    }
    probes.push({ probe, weights: weights.sort((x, y) => y.output_noise - x.output_noise) });
  }
  return {
    format: 'onnx-opt-sensitivity-1', probe: probes[0].probe, weights: probes[0].weights,
    measure: `output_noise = sum over float outputs of ||y - y_fp32||^2 / ||y_fp32||^2 on ${samples.length} samples, this weight alone quantized by the probe; ONNX Runtime level basic`,
    probes,
  };
}

async function calibrate(a) {
  const bins = findBinaries(a);
  const original = path.resolve(a.pos[0]);
  if (!fs.existsSync(original)) fail(`${original}: no such model file`);
  const output = path.resolve(a.output);
  if (output === original) fail('-o would overwrite the model');
  if (fs.existsSync(output) && !fs.statSync(output).isFile()) fail(`-o ${output}: exists and is not a regular file`);
  const ort = require('onnxruntime-node');
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-opt-calibrate-'));
  const t0 = Date.now();
  const childRef = {};
  try {
    // The prepared graph replaces the model everywhere below (helper, exposed copy, probes).
    let model = original;
    if (a.prepare) {
      model = path.join(scratch, 'prepared.onnx');
      runOnnxOpt(bins.onnxOpt, original, a.prepare, model);
      process.stderr.write(`onnx-opt-calibrate: ${path.basename(original)}: measuring the graph '${a.prepare}' leaves\n`);
    }
    const exposedFile = path.join(scratch, 'exposed.onnx');
    const helperWhat = a.whatList.filter((w) => w !== 'sensitivity' && w !== 'layer-noise' && w !== 'plan-speed');
    const child = spawn(bins.helper, [model, '--exposed', exposedFile, '-o', output, '--what', helperWhat.join(',') || 'sensitivity', '--max-hessian-bytes', String(Math.max(1, Math.round(a.maxHessianMb * 1048576)))], { stdio: ['pipe', 'pipe', 'pipe'] });
    childRef.child = child;
    let helperErr = '';
    child.stderr.on('data', (d) => { helperErr += d; });
    const exited = new Promise((r) => child.on('close', (code) => r(code)));
    child.on('error', (e) => { helperErr += e.message; });
    child.stdin.on('error', () => { /* reported through the exit code */ });
    const nextLine = lineReader(child.stdout);
    const helperFailed = async () => { await exited; fail((helperErr.trim().split('\n').pop() || 'the helper failed').replace(/^onnx-opt-calibrate-helper: error: /, '')); };
    const planLine = await nextLine();
    if (planLine === null) await helperFailed();
    const plan = JSON.parse(planLine);
    process.stderr.write(`onnx-opt-calibrate: ${path.basename(original)}: ${plan.weights_measured} of ${plan.weights} weights measurable, ${plan.exposed.length} values exposed\n`);

    // Samples: converted from media first when asked.
    let sampleDir = a.samples;
    if (a.images || a.wav) {
      if (plan.inputs.length !== 1) fail(`--${a.images ? 'images' : 'wav'} makes one-input samples; the model takes ${plan.inputs.map((i) => i.name).join(', ')}`);
      sampleDir = a.samples ? path.resolve(a.samples) : path.join(scratch, 'samples');
      const n = convertMedia(a.images || a.wav, sampleDir, plan.inputs[0].name, a.images ? 'images' : 'wav',
        { size: a.sizeHW, layout: a.layout, mean: a.meanRGB, std: a.stdRGB, scale: a.scale, bgr: a.bgr, wavScale: a.wavScale }).length;
      process.stderr.write(`onnx-opt-calibrate: ${n} samples written to ${sampleDir}\n`);
    }
    const files = listSamples(sampleDir, a);
    const sess = await ort.InferenceSession.create(exposedFile, { graphOptimizationLevel: 'basic', logSeverityLevel: 3 });
    const stream = new HelperStream(child);
    const wantSensitivity = a.whatList.includes('sensitivity');
    const wantNoise = a.whatList.includes('layer-noise');
    const wantSpeed = a.whatList.includes('plan-speed');
    const sensSamples = [], refs = [], noiseSamples = [], noiseRefs = [];
    const warn = (msg) => process.stderr.write(`onnx-opt-calibrate: note: ${msg}\n`);
    // One pass over the samples per group of weights (the helper's --max-hessian-mb); the first
    // also gives the ranges and the sensitivity references, the others fetch only the
    // activations their weights read.
    const passes = plan.passes && plan.passes.length ? plan.passes : [plan.exposed];
    const graphOutputs = new Set([...plan.outputs, ...plan.exposed]);
    let runs = 0, largest = 0;
    for (const [p, needs] of passes.entries()) {
      const everything = passes.length === 1 || (p === 0 && a.whatList.includes('ranges'));
      const wanted = everything ? null : new Set(needs);
      const fetch = everything ? [...graphOutputs] : [...new Set([...plan.outputs, ...needs.filter((n) => graphOutputs.has(n))])];
      const tick = progress(passes.length > 1 ? `statistics (pass ${p + 1}/${passes.length})` : 'statistics', files.length);
      let done = 0;
      const onSample = async (feeds, res) => {
        for (const [name, t] of Object.entries({ ...feeds, ...res })) {
          if (ELEM[t.type] && (!wanted || wanted.has(name)) && child.exitCode === null) await stream.tensor(name, t);
        }
        await stream.endSample();
        if (child.exitCode !== null) await helperFailed();
        if (p === 0 && wantSensitivity && sensSamples.length < a.sensitivitySamples) {
          sensSamples.push(feeds);
          refs.push(floatOutputs(res, plan.outputs));
        }
        if (p === 0 && (wantNoise || wantSpeed) && noiseSamples.length < a.noiseSamples) {
          noiseSamples.push(feeds);
          noiseRefs.push(floatOutputs(res, plan.outputs));
        }
        tick(++done);
      };
      const r = await runSamples(ort, sess, files, fetch,
        { inputs: plan.inputs, batch: a.batch, load: (file) => loadFeeds(ort, file, plan.inputs), onSample, warn });
      runs += r.runs;
      largest = Math.max(largest, r.largest);
      await stream.endPass();
    }
    process.stderr.write(`onnx-opt-calibrate: ${files.length} samples in ${runs} runs (at most ${largest} per run${batchable(plan.inputs) ? '' : '; the inputs have a fixed first dimension'}${passes.length > 1 ? `; ${passes.length} passes, Hessians of at most ${a.maxHessianMb} MB each` : ''})\n`);
    await sess.release?.();
    let sensitivity = null;
    if (wantSensitivity) sensitivity = await measureSensitivity(ort, a, bins, model, sensSamples, refs, plan.outputs, scratch);
    // The sample list as a digest, so the file's size does not grow with the sample count.
    const digest = require('crypto').createHash('sha256');
    for (const f of files) digest.update(`${path.basename(f)}\0${fs.statSync(f).size}\n`);
    const samplesInfo = { dir: path.resolve(sampleDir), first: path.basename(files[0]), files_sha256: digest.digest('hex'), seed: a.seed, max_samples: a.maxSamples || null, sensitivity_samples: wantSensitivity ? sensSamples.length : null, prepare: a.prepare || null };
    await stream.finish(`${JSON.stringify(samplesInfo)}\n${sensitivity ? JSON.stringify(sensitivity) : ''}`);
    const summaryLine = await nextLine();
    const code = await exited;
    if (code !== 0 || summaryLine === null) await helperFailed();
    const summary = JSON.parse(summaryLine);
    let layerNoise = null;
    if (wantNoise) {
      layerNoise = await measureLayerNoise(ort, {
        runOnnxOpt: (input, pipeline, out) => runOnnxOpt(bins.onnxOpt, input, pipeline, out),
        model, calib: output, samples: noiseSamples, refs: noiseRefs, outputNames: plan.outputs, scratch, progress,
      });
      addToIndex(output, 'layer_noise', layerNoise);
    }
    let planSpeed = null;
    if (wantSpeed) {
      // After layer-noise: the plan timed is the one its budget leaves.
      planSpeed = await measurePlanSpeed(ort, {
        runOnnxOpt: (input, pipeline, out) => runOnnxOpt(bins.onnxOpt, input, pipeline, out),
        model, calib: output, samples: noiseSamples, rounds: a.speedRounds, threads: a.speedThreads, spinning: a.speedSpinning === 'on', scratch,
      });
      addToIndex(output, 'plan_speed', planSpeed);
    }
    for (const w of summary.without_data) process.stderr.write(`onnx-opt-calibrate: note: weight '${w.weight}': no Hessian: ${w.why}\n`);
    const bytes = fs.statSync(output).size;
    console.log(`onnx-opt-calibrate: ${output}: ${summary.samples} samples, Hessians of ${summary.weights_with_hessians}/${summary.weights} weights, ranges of ${summary.tensors_with_ranges} tensors${sensitivity ? `, sensitivity of ${sensitivity.weights.length} weights` : ''}${layerNoise ? `, output noise of ${layerNoise.layers.length} layers` : ''}${planSpeed ? (planSpeed.speedup === null ? ', no integer plan to time' : `, plan of ${planSpeed.integer_nodes.length} integer nodes ${planSpeed.speedup.toFixed(2)}x`) : ''}, ${(bytes / 1e6).toFixed(1)} MB, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return summary;
  } finally {
    if (childRef.child && childRef.child.exitCode === null) childRef.child.kill();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

function usage() {
  const lines = fs.readFileSync(__filename, 'utf8').split('\n');
  return lines.slice(1, lines.indexOf("'use strict';")).map((l) => l.replace(/^\/\/ ?/, '')).join('\n');
}

async function main(argv = process.argv.slice(2)) {
  try {
    const a = parseArgs(argv);
    if (a.help) { console.log(usage()); return 0; }
    await calibrate(a);
    return 0;
  } catch (e) {
    const msg = e instanceof UsageError ? e.message : (e && e.message ? e.message : String(e)).split('\n')[0];
    console.error(`onnx-opt-calibrate: error: ${msg}`);
    return e instanceof UsageError ? 2 : 1;
  }
}

if (require.main === module) main().then((code) => { process.exitCode = code; });

module.exports = { main, parseArgs, listSamples, loadFeeds, convertFor, shuffled, calibrate };

#!/usr/bin/env node
// The harness' task metric (eval/run.js: runTask, taskMetric) on OpenCV.js' outputs.
//
//   node eval/opencv-task.js TASK --opencv 4.12|5 [--config fp32|int8] [--limit N]
//                            [--engine auto|classic|new] [--onnx-opt BIN] [--out FILE]
//
// TASK: ocr-det | ocr-rec | ocr-cls | isnet | wakeword (oww-mel, oww-embed, oww-jarvis), models
// from scripts/fetch-models.sh, inputs from eval/make-inputs.py (the first N items of the set).
// OpenCV needs static input shapes: each input shape the items need gets its own file,
//   fp32: set-input-shapes{shapes=NAME:DIMS},fold-constants,dce,legalize{runtime=opencv-V}
//   int8: upgrade-opset{target=21},quantize-weights{runtime=opencv-V},<the fp32 pipeline>
// (eval/opencv-compat.sh's pipelines), with eval/opencv_flat_input.py for inputs OpenCV.js cannot
// build. The same items run in ONNX Runtime (level basic) on the original model (the fp32
// reference of the metric, as in the harness) and on the same configuration without the shape
// and legalize passes ("ORT same config"). Prints one JSON object: the task metric of each run,
// the output SQNR of OpenCV vs ORT same config and vs ORT fp32 (eval/run.js' Fidelity over all
// items), and OpenCV's wall time (preparation excluded).
// --engine (OpenCV 5 only): the dnn engine readNetFromONNX builds the net with (cv.ENGINE_AUTO,
// the default, takes the new engine when it can parse the model; classic is 4.x's engine).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const harness = require('./run.js');
const { loadOpenCv, cvMessage, toBlob } = require('./opencv-run.js');

const MODELS = {
  'ocr-det': ['ocr-det'], 'ocr-rec': ['ocr-rec'], 'ocr-cls': ['ocr-cls'], isnet: ['isnet'],
  wakeword: ['oww-mel', 'oww-embed', 'oww-jarvis'],
};

function die(msg) {
  console.error(`opencv-task: error: ${String(msg).split('\n')[0]}`);
  process.exit(2);
}

function parseArgs(argv) {
  const a = { task: null, opencv: null, config: 'fp32', limit: 0, out: null, engine: null,
    onnxOpt: path.join(__dirname, '..', 'build', 'driver', 'onnx-opt') };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => (i + 1 < argv.length ? argv[++i] : die(`${k} needs a value`));
    if (k === '--opencv') a.opencv = val();
    else if (k === '--config') a.config = val();
    else if (k === '--limit') a.limit = Number(val());
    else if (k === '--onnx-opt') a.onnxOpt = val();
    else if (k === '--out') a.out = val();
    else if (k === '--engine') a.engine = val();
    else if (k.startsWith('--')) die(`unknown flag ${k}`);
    else if (a.task === null) a.task = k;
    else die(`unexpected argument ${k}`);
  }
  if (!(a.task in MODELS)) die(`TASK must be one of ${Object.keys(MODELS).join(', ')}`);
  if (!['4.12', '5'].includes(a.opencv)) die('--opencv expects 4.12 or 5');
  if (!['fp32', 'int8'].includes(a.config)) die('--config expects fp32 or int8');
  if (!Number.isInteger(a.limit) || a.limit < 0) die('--limit expects a count');
  if (a.engine !== null && !['auto', 'classic', 'new'].includes(a.engine)) die('--engine expects auto, classic or new');
  if (a.engine !== null && a.opencv !== '5') die('--engine needs --opencv 5 (4.12 has one engine)');
  return a;
}

function onnxOpt(a, src, pipeline, out) {
  const r = spawnSync(a.onnxOpt, [src, '-p', pipeline, '-o', out], { encoding: 'utf8' });
  if (r.status !== 0) die(`onnx-opt refuses ${path.basename(src)} (${pipeline}): ${(r.stderr || r.error || '').toString().trim()}`);
}

function quantPrefix(a) {
  return a.config === 'int8' ? `upgrade-opset{target=21},quantize-weights{runtime=opencv-${a.opencv}},` : '';
}

// An ORT-session look-alike over OpenCV: a legalized static-shape file per input shape.
function cvSession(cv, a, id, src, meta, work) {
  const nets = new Map();
  const inputName = meta.inputNames[0];
  const netFor = (dims) => {
    const key = dims.join('x');
    if (nets.has(key)) return nets.get(key);
    const raw = path.join(work, `${id}.${key}.raw.onnx`), file = path.join(work, `${id}.${key}.onnx`);
    onnxOpt(a, src, `${quantPrefix(a)}set-input-shapes{shapes=${inputName}:${key}},fold-constants,dce,legalize{runtime=opencv-${a.opencv}}`, raw);
    const r = spawnSync('/usr/bin/python3', [path.join(__dirname, 'opencv_flat_input.py'), raw, file], { encoding: 'utf8' });
    if (r.status !== 0) die(`opencv_flat_input.py ${raw}: ${(r.stderr || '').trim()}`);
    let net;
    const bytes = new Uint8Array(fs.readFileSync(file));
    try {
      net = a.engine === null ? cv.readNetFromONNX1(bytes) : cv.readNetFromONNX1(bytes, cv[`ENGINE_${a.engine.toUpperCase()}`]);
    } catch (e) {
      die(`OpenCV ${a.opencv} cannot load ${id} [${key}]: ${cvMessage(cv, e)}`);
    }
    nets.set(key, net);
    return net;
  };
  return {
    inputNames: meta.inputNames, outputNames: meta.outputNames, inputMetadata: meta.inputMetadata,
    async run(feeds, names = meta.outputNames) {
      const t = feeds[inputName];
      const dims = t.dims.map(Number);
      const net = netFor(dims);
      const blobDims = dims.length === 4 && dims[0] === 1 && [1, 3, 4].includes(dims[1]) ? dims
        : dims.length === 2 ? dims : [dims.slice(0, -1).reduce((x, y) => x * y, 1), dims[dims.length - 1]];
      const blob = toBlob(cv, inputName, blobDims, t.data);
      const res = {};
      try {
        net.setInput(blob, inputName);
        for (const name of names) {
          const out = net.forward(name);
          res[name] = { data: Float32Array.from(out.data32F), dims: Array.from({ length: out.matSize.length }, (_, i) => out.matSize[i]) };
          out.delete();
        }
      } catch (e) { die(`OpenCV ${a.opencv} failed running ${id} [${dims}]: ${cvMessage(cv, e)}`); }
      blob.delete();
      return res;
    },
  };
}

function fidelity(refs, outs) {
  const f = new harness.Fidelity();
  outs.forEach((o, i) => f.add(refs[i].main, o.main));
  return f.result();
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const cache = harness.cacheDir();
  const inputsDir = path.join(cache, 'inputs');
  const manifest = path.join(inputsDir, 'inputs.json');
  if (!fs.existsSync(manifest)) die(`no inputs at ${inputsDir} (run /usr/bin/python3 eval/make-inputs.py)`);
  const set = JSON.parse(fs.readFileSync(manifest, 'utf8')).sets[a.task];
  const items = a.limit > 0 ? set.items.slice(0, a.limit) : set.items;
  const ctx = {};
  if (a.task === 'ocr-rec') {
    ctx.keys = fs.readFileSync(path.join(cache, 'ocr-keys.txt'), 'utf8').split('\n');
    if (ctx.keys[ctx.keys.length - 1] === '') ctx.keys.pop();
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'opencv-task-'));
  try {
    const srcs = MODELS[a.task].map((id) => path.join(cache, `${id}.onnx`));
    for (const s of srcs) if (!fs.existsSync(s)) die(`${s} is not cached (scripts/fetch-models.sh)`);
    const fp32 = [];
    for (const s of srcs) fp32.push(await harness.session(s, 'basic'));
    const refs = await harness.runTask(a.task, fp32, set, items, inputsDir);
    let same = fp32;
    if (a.config === 'int8') {
      same = [];
      for (const [k, s] of srcs.entries()) {
        const q = path.join(work, `${MODELS[a.task][k]}.int8.onnx`);
        onnxOpt(a, s, quantPrefix(a).slice(0, -1), q);
        same.push(await harness.session(q, 'basic'));
      }
    }
    const ortOuts = same === fp32 ? refs : await harness.runTask(a.task, same, set, items, inputsDir);
    const { cv } = await loadOpenCv(a.opencv);
    const sessions = srcs.map((s, k) => cvSession(cv, a, MODELS[a.task][k], s, fp32[k], work));
    const t0 = process.hrtime.bigint();
    const cvOuts = await harness.runTask(a.task, sessions, set, items, inputsDir);
    const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const brief = (m) => ({ name: m.name, value: m.value, line_accuracy: m.line_accuracy,
      flips_vs_fp32: m.flips_vs_fp32, summary: m.summary });
    const result = {
      task: a.task, opencv: a.opencv, ...(a.engine === null ? {} : { engine: a.engine }), config: a.config, items: items.length,
      metric_opencv: brief(harness.taskMetric(a.task, set, items, cvOuts, refs, ctx)),
      metric_ort_same_config: brief(harness.taskMetric(a.task, set, items, ortOuts, refs, ctx)),
      metric_ort_fp32: brief(harness.taskMetric(a.task, set, items, refs, refs, ctx)),
      sqnr_vs_ort_same_config: fidelity(ortOuts, cvOuts).sqnr_db,
      sqnr_vs_ort_fp32: fidelity(refs, cvOuts).sqnr_db,
      opencv_wall_ms: +wallMs.toFixed(1),
      date: new Date().toISOString(), load: os.loadavg().map((x) => +x.toFixed(1)),
    };
    const text = JSON.stringify(result);
    if (a.out) fs.writeFileSync(a.out, text + '\n');
    console.log(text);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => die(e && e.message ? e.message : e));

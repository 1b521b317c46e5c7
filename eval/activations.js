#!/usr/bin/env node
// Dump the activations each quantizable weight multiplies, on the calibration inputs, for
// `quantize-weights{...,calibration=FILE}` (data-aware rounding such as GPTQ).
//
//   node eval/activations.js TARGET [--inputs DIR] [--limit N] [--max-runs N] [--out-dir DIR]
//
// For each model of TARGET (eval/models.json; models below the upgrade opset are upgraded first
// with configs.json's upgrade pipeline, as the evaluation does, so value names match the model
// quantize-weights receives), `onnx-opt -p expose-activations` makes the data input of every
// weighted Conv/ConvTranspose/MatMul/Gemm a graph output; the target's task then runs in ONNX
// Runtime (level basic) on the calibration inputs (default <cache>/calib, from
// `make-inputs.py --calibration`). Multi-model targets run as a chain (wake word: mel ->
// embedding -> head), so each model sees the inputs the evaluation gives it. Every session run
// is one sample: each exposed value is written as <out-dir>/<model>/<k>-<value>.<run>.npy
// (NumPy 1.0, C order, '<f4' or '<f2') and listed in <out-dir>/<model>/manifest.json:
//   {"format": "onnx-opt-calibration-1", "values": {"<value name>": ["0-x.0.npy", ...]}, ...}
// (paths relative to the manifest). --limit N: first N calibration items; --max-runs N: at most
// N runs per model (evenly spaced; the wake-word head runs once per 16-embedding window).
// Default out-dir: <cache>/work/calibration/<target>. ONNX_OPT overrides the onnx-opt binary.
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { dieFor, parseFlags, usageUnlessOneTarget, runOnnxOpt, loadCalibrationTarget } = require('./tool.js');

const FORMAT = 'onnx-opt-calibration-1';
const die = dieFor('activations');

// ----------------------------------------------------------------- npy ----
// NumPy format 1.0: magic, version, little-endian uint16 header length, a Python dict literal
// padded with spaces to a 64-byte boundary and ended by '\n', then the raw C-order data.
const NPY_DESCR = { float32: '<f4', float16: '<f2' };

function npyHeader(descr, shape) {
  if (!Object.values(NPY_DESCR).includes(descr)) throw new Error(`unsupported npy dtype ${descr}`);
  for (const d of shape) if (!Number.isInteger(d) || d < 0) throw new Error(`bad npy dimension ${d} in [${shape}]`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const fixed = 10; // magic (6) + version (2) + header length (2)
  const total = Math.ceil((fixed + dict.length + 1) / 64) * 64;
  dict = dict.padEnd(total - fixed - 1, ' ') + '\n';
  if (dict.length > 0xffff) throw new Error('npy header too long for format 1.0');
  const head = Buffer.alloc(fixed);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1; head[7] = 0;
  head.writeUInt16LE(dict.length, 8);
  return Buffer.concat([head, Buffer.from(dict, 'latin1')]);
}

// `data`: a typed array (Float32Array for '<f4'; Uint16Array or Float16Array bits for '<f2').
function npyBytes(descr, shape, data) {
  const count = shape.reduce((a, b) => a * b, 1);
  const width = descr === '<f4' ? 4 : 2;
  if (data.length !== count || data.BYTES_PER_ELEMENT !== width) {
    throw new Error(`npy data of ${data.length} x ${data.BYTES_PER_ELEMENT} bytes does not match ${descr} [${shape}]`);
  }
  // Typed arrays use the host's byte order; every platform ORT ships for is little-endian.
  return Buffer.concat([npyHeader(descr, shape), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

function writeNpy(file, descr, shape, data) {
  fs.writeFileSync(file, npyBytes(descr, shape, data));
}

// A file-name-safe form of a value name (ONNX names may hold '/', ':' and spaces).
function safeName(name) {
  const s = name.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_');
  return s.length > 80 ? s.slice(0, 80) : s;
}

// Collects the files of each exposed value and builds the manifest document.
class Manifest {
  constructor(valueNames) {
    this.values = new Map(valueNames.map((n) => [n, []]));
    this.index = new Map(valueNames.map((n, k) => [n, k]));
    this.bytes = 0;
  }
  // File name (relative to the manifest) of run `run` of `name`.
  fileFor(name, run) {
    if (!this.index.has(name)) throw new Error(`value '${name}' is not exposed`);
    return `${this.index.get(name)}-${safeName(name)}.${run}.npy`;
  }
  add(name, file, bytes) {
    this.values.get(name).push(file);
    this.bytes += bytes;
  }
  toJSON(extra = {}) {
    return { format: FORMAT, ...extra, values: Object.fromEntries(this.values) };
  }
}

// Evenly spaced subset of [0, n) of at most `max` indices (all when max <= 0).
function spacedRuns(n, max) {
  if (!(max > 0) || n <= max) return new Set(Array.from({ length: n }, (_, i) => i));
  const s = new Set();
  for (let i = 0; i < max; i++) s.add(Math.floor((i * n) / max + n / (2 * max)));
  return s;
}

// ---------------------------------------------------------------- main ----
// A session stand-in for run.js's task runners: runs the exposed model, hands the runner the
// original outputs and passes the exposed ones to `record`.
function recordingSession(sess, originalOutputs, exposed, record) {
  return {
    inputNames: sess.inputNames,
    outputNames: originalOutputs,
    inputMetadata: sess.inputMetadata,
    outputMetadata: sess.outputMetadata,
    async run(feeds, fetches) {
      const want = [...new Set([...(fetches || originalOutputs), ...exposed])];
      const res = await sess.run(feeds, want);
      // A graph input that is also an activation: ORT returns it as an output too.
      record(res);
      const out = {};
      for (const k of fetches || originalOutputs) out[k] = res[k];
      return out;
    },
    release: () => sess.release?.(),
  };
}

async function main() {
  const a = parseFlags(process.argv.slice(2), {
    '--inputs': ['inputs', String], '--limit': ['limit', Number], '--max-runs': ['maxRuns', Number],
    '--out-dir': ['outDir', String],
  }, { limit: 0, maxRuns: 0 }, die);
  usageUnlessOneTarget(a, __filename, 20);
  const { runTask, session, cacheDir } = require('./run.js');
  const { target, set, items, inputsDir, outDir, scratch, cfg, needsUpgrade, modelFile } =
    loadCalibrationTarget(a.pos[0], a.inputs, a.limit, a.outDir, 'calibration', die);
  const cache = cacheDir();
  const t0 = Date.now();

  const ort = require('onnxruntime-node');
  const members = [];
  for (const m of target.members) {
    const file = modelFile(m);
    const exposedFile = path.join(scratch, `${m}.exposed.onnx`);
    runOnnxOpt(file, 'expose-activations', exposedFile, die);
    const plain = await ort.InferenceSession.create(file, { logSeverityLevel: 3 });
    const originalOutputs = [...plain.outputNames];
    await plain.release?.();
    const sess = await session(exposedFile, 'basic');
    const originalSet = new Set(originalOutputs);
    const exposed = sess.outputNames.filter((n) => !originalSet.has(n));
    const dir = path.join(outDir, m);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    members.push({ id: m, file, sess, originalOutputs, exposed, dir, manifest: new Manifest(exposed), runs: [] });
  }

  // First pass: count the runs per model (cheap for every target here: the chain is the task).
  const counting = members.map((mm) => recordingSession(mm.sess, mm.originalOutputs, [], () => { mm.runs.push(1); }));
  await runTask(target.task, counting, set, items, inputsDir);
  for (const mm of members) { mm.keep = spacedRuns(mm.runs.length, a.maxRuns); mm.total = mm.runs.length; mm.seen = 0; mm.written = 0; }

  const writing = members.map((mm) => recordingSession(mm.sess, mm.originalOutputs, mm.exposed, (res) => {
    const run = mm.seen++;
    if (!mm.keep.has(run)) return;
    for (const name of mm.exposed) {
      const t = res[name];
      const descr = NPY_DESCR[t.type];
      if (!descr) die(`${mm.id}: value '${name}' has type ${t.type}; only float32/float16 activations are written`);
      const file = mm.manifest.fileFor(name, mm.written);
      const buf = npyBytes(descr, t.dims.map(Number), t.data);
      fs.writeFileSync(path.join(mm.dir, file), buf);
      mm.manifest.add(name, file, buf.length);
    }
    mm.written++;
  }));
  await runTask(target.task, writing, set, items, inputsDir);

  for (const mm of members) {
    await mm.sess.release?.();
    const doc = mm.manifest.toJSON({
      model: mm.id,
      source_sha256: crypto.createHash('sha256').update(fs.readFileSync(path.join(cache, `${mm.id}.onnx`))).digest('hex'),
      pipeline: needsUpgrade(mm.id) ? cfg.upgrade.pipeline : null,
      inputs: { dir: inputsDir, items: items.map((it) => it.file) },
      runs: { total: mm.total, written: mm.written, max_runs: a.maxRuns || null },
    });
    const out = path.join(mm.dir, 'manifest.json');
    fs.writeFileSync(out, JSON.stringify(doc, null, 1) + '\n');
    console.log(`activations: ${out}: ${mm.exposed.length} values x ${mm.written} of ${mm.total} runs, ${(mm.manifest.bytes / 1e6).toFixed(1)} MB`);
  }
  fs.rmSync(scratch, { recursive: true, force: true });
  console.error(`activations: ${target.id} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

if (require.main === module) main().catch((e) => die((e && e.message ? e.message : String(e)).split('\n')[0]));

module.exports = { npyHeader, npyBytes, writeNpy, safeName, Manifest, spacedRuns, recordingSession, FORMAT };

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
const { spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..');
const FORMAT = 'onnx-opt-calibration-1';

function die(msg) {
  console.error(`activations: error: ${msg}`);
  process.exit(2);
}

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
function parseArgs(argv) {
  const a = { pos: [], limit: 0, maxRuns: 0 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => { if (i + 1 >= argv.length) die(`${k} needs a value`); return argv[++i]; };
    if (k === '--inputs') a.inputs = val();
    else if (k === '--limit') a.limit = parseInt(val(), 10);
    else if (k === '--max-runs') a.maxRuns = parseInt(val(), 10);
    else if (k === '--out-dir') a.outDir = val();
    else if (k === '-h' || k === '--help') a.help = true;
    else if (k.startsWith('--')) die(`unknown option ${k}`);
    else a.pos.push(k);
  }
  return a;
}

function onnxOpt(input, pipeline, output) {
  const bin = process.env.ONNX_OPT || path.join(ROOT, 'build', 'driver', 'onnx-opt');
  const r = spawnSync(bin, [input, '-p', pipeline, '-o', output], { encoding: 'utf8' });
  if (r.error) die(`cannot run ${bin}: ${r.error.message}`);
  if (r.status !== 0) die(`onnx-opt -p '${pipeline}' on ${input}: ${(r.stderr || '').trim().split('\n').pop()}`);
}

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
  const a = parseArgs(process.argv.slice(2));
  if (a.help || a.pos.length !== 1) {
    console.error(fs.readFileSync(__filename, 'utf8').split('\n').slice(1, 20).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
    process.exit(a.help ? 0 : 2);
  }
  const { runTask, session, cacheDir } = require('./run.js');
  const models = JSON.parse(fs.readFileSync(path.join(__dirname, 'models.json'), 'utf8'));
  const cfg = JSON.parse(fs.readFileSync(path.join(__dirname, 'configs.json'), 'utf8'));
  const target = models.targets.find((t) => t.id === a.pos[0]);
  if (!target) die(`unknown target '${a.pos[0]}' (known: ${models.targets.map((t) => t.id).join(', ')})`);
  const byId = new Map(models.models.map((m) => [m.id, m]));
  const cache = cacheDir();
  const inputsDir = path.resolve(a.inputs || path.join(cache, 'calib'));
  const manPath = path.join(inputsDir, 'inputs.json');
  if (!fs.existsSync(manPath)) die(`no inputs at ${inputsDir} (run /usr/bin/python3 eval/make-inputs.py --calibration)`);
  const set = JSON.parse(fs.readFileSync(manPath, 'utf8')).sets[target.task];
  if (!set) die(`${manPath} has no '${target.task}' set`);
  const items = a.limit > 0 ? set.items.slice(0, a.limit) : set.items;
  const outDir = path.resolve(a.outDir || path.join(cache, 'work', 'calibration', target.id));
  const scratch = path.join(outDir, 'scratch');
  fs.mkdirSync(scratch, { recursive: true });
  const t0 = Date.now();

  const ort = require('onnxruntime-node');
  const members = [];
  for (const m of target.members) {
    const src = path.join(cache, `${m}.onnx`);
    if (!fs.existsSync(src)) die(`model ${src} missing (scripts/fetch-models.sh ${m})`);
    let file = src;
    if (byId.get(m).opset < cfg.upgrade.below_opset) {
      file = path.join(scratch, `${m}.upgraded.onnx`);
      onnxOpt(src, cfg.upgrade.pipeline, file);
    }
    const exposedFile = path.join(scratch, `${m}.exposed.onnx`);
    onnxOpt(file, 'expose-activations', exposedFile);
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
      pipeline: byId.get(mm.id).opset < cfg.upgrade.below_opset ? cfg.upgrade.pipeline : null,
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

#!/usr/bin/env node
// Evaluate one model (or the 3-model wake-word pipeline) in ONNX Runtime on the
// real inputs made by eval/make-inputs.py.
//
//   node eval/run.js TASK MODEL.onnx[,MODEL2.onnx,MODEL3.onnx] [options]
//
// TASK: ocr-det | ocr-rec | ocr-cls | isnet | wakeword (wakeword takes
// mel,embedding,head as three comma-separated files).
// Options:
//   --save-ref           store this run's outputs as the fp32 reference
//   --ref-dir DIR        reference store (default <cache>/ref)
//   --inputs DIR         inputs made by make-inputs.py (default <cache>/inputs)
//   --latency-runs N     timed runs at the default optimization level (default 7; 0 = skip)
//   --limit N            use only the first N items of the input set
//   --out FILE           also write the JSON result to FILE
// Fidelity (outputs, SQNR, cosine, task metric) is measured at graph
// optimization level 'basic' (no DQ+MatMul -> MatMulNBits fusion with int8
// activations); latency at ORT's default level. Prints one JSON object on stdout.
'use strict';
const fs = require('fs');
const path = require('path');
const os = require('os');
const crypto = require('crypto');
const { detSetMetric, detSummary } = require('./det-metric.js');

let ort;
try {
  ort = require('onnxruntime-node');
} catch (e) {
  console.error(`run: error: onnxruntime-node missing (cd ${__dirname} && npm ci): ${e.message}`);
  process.exit(2);
}

const TASKS = ['ocr-det', 'ocr-rec', 'ocr-cls', 'isnet', 'wakeword'];

function cacheDir() {
  return process.env.ONNX_OPT_MODEL_CACHE || path.join(os.homedir(), '.cache', 'onnx-opt', 'models');
}

function parseArgs(argv) {
  const a = { pos: [], latencyRuns: 7, saveRef: false, limit: 0 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${k} needs a value`);
      return argv[++i];
    };
    if (k === '--save-ref') a.saveRef = true;
    else if (k === '--ref-dir') a.refDir = val();
    else if (k === '--inputs') a.inputs = val();
    else if (k === '--latency-runs') a.latencyRuns = parseInt(val(), 10);
    else if (k === '--limit') a.limit = parseInt(val(), 10);
    else if (k === '--out') a.out = val();
    else if (k === '-h' || k === '--help') a.help = true;
    else if (k.startsWith('--')) throw new Error(`unknown option ${k}`);
    else a.pos.push(k);
  }
  return a;
}

function readF32(file) {
  const b = fs.readFileSync(file);
  const out = new Float32Array(b.length / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

function sha256File(file) {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

async function session(file, level) {
  const opts = { graphOptimizationLevel: level, logSeverityLevel: 3 };
  return ort.InferenceSession.create(file, opts);
}

function median(xs) {
  const s = [...xs].sort((x, y) => x - y);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

// ------------------------------------------------------------- metrics ----
function levenshtein(a, b) {
  const A = [...a], B = [...b];
  let prev = Array.from({ length: B.length + 1 }, (_, j) => j);
  for (let i = 1; i <= A.length; i++) {
    const cur = [i];
    for (let j = 1; j <= B.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (A[i - 1] === B[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[B.length];
}

function ctcGreedy(probs, dims, keys) {
  const [, T, C] = dims;
  let s = '';
  let last = -1;
  for (let t = 0; t < T; t++) {
    let best = 0, bv = -Infinity;
    const o = t * C;
    for (let c = 0; c < C; c++) if (probs[o + c] > bv) { bv = probs[o + c]; best = c; }
    if (best !== 0 && best !== last) s += best - 1 < keys.length ? keys[best - 1] : ' ';
    last = best;
  }
  return s;
}

class Fidelity {
  constructor() { this.sig = 0; this.err = 0; this.dot = 0; this.na = 0; this.nb = 0; this.maxAbs = 0; this.n = 0; }
  add(ref, q) {
    if (ref.length !== q.length) throw new Error(`output size ${q.length} differs from the reference ${ref.length}`);
    for (let i = 0; i < ref.length; i++) {
      const r = ref[i], v = q[i], d = r - v;
      this.sig += r * r; this.err += d * d; this.dot += r * v; this.na += r * r; this.nb += v * v;
      const ad = Math.abs(d);
      if (ad > this.maxAbs || Number.isNaN(ad)) this.maxAbs = ad;
    }
    this.n += ref.length;
  }
  result() {
    const sqnr = this.err === 0 ? Infinity : 10 * Math.log10(this.sig / this.err);
    const cos = this.na === 0 || this.nb === 0 ? (this.na === this.nb ? 1 : 0) : this.dot / Math.sqrt(this.na * this.nb);
    return { sqnr_db: Number.isFinite(sqnr) ? +sqnr.toFixed(3) : (Number.isNaN(sqnr) ? null : 999), cosine: +cos.toFixed(7), max_abs_diff: this.maxAbs, elements: this.n };
  }
}

function maskCounts(ref, q, thr) {
  let inter = 0, uni = 0, pos = 0;
  for (let i = 0; i < ref.length; i++) {
    const a = ref[i] >= thr, b = q[i] >= thr;
    if (a && b) inter++;
    if (a || b) uni++;
    if (b) pos++;
  }
  return { inter, uni, pos };
}

// --------------------------------------------------------------- tasks ----
// Each task: run(sessions, items, ctx) -> { outputs: [Float32Array per item], extra per item }
// and metric(outputs, refOutputs, items) -> { name, value, ... }.

async function runSimple(sess, set, item, inputsDir, outName) {
  const x = readF32(path.join(inputsDir, item.file));
  const feeds = { [sess.inputNames[0]]: new ort.Tensor('float32', x, item.shape) };
  const res = await sess.run(feeds, [outName]);
  return res[outName];
}

async function wakeClip(sessions, samples) {
  const [mel, emb, head] = sessions;
  const n = samples.length;
  const m = (await mel.run({ [mel.inputNames[0]]: new ort.Tensor('float32', samples, [1, n]) }))[mel.outputNames[0]];
  const T = m.data.length / 32;
  const spec = new Float32Array(m.data.length);
  for (let i = 0; i < spec.length; i++) spec[i] = m.data[i] / 10 + 2;
  const starts = [];
  for (let i = 0; i + 76 <= T; i += 8) starts.push(i);
  const win = new Float32Array(starts.length * 76 * 32);
  starts.forEach((s, k) => win.set(spec.subarray(s * 32, (s + 76) * 32), k * 76 * 32));
  const e = (await emb.run({ [emb.inputNames[0]]: new ort.Tensor('float32', win, [starts.length, 76, 32, 1]) }))[emb.outputNames[0]];
  const E = e.data; // [N,1,1,96]
  const N = starts.length;
  const hw = head.inputMetadata?.[0]?.shape?.[1] || 16;
  const scores = [];
  for (let j = 0; j + hw <= N; j++) {
    const x = new Float32Array(E.subarray(j * 96, (j + hw) * 96));
    const r = (await head.run({ [head.inputNames[0]]: new ort.Tensor('float32', x, [1, hw, 96]) }))[head.outputNames[0]];
    scores.push(r.data[0]);
  }
  return { scores: Float32Array.from(scores), embeddings: new Float32Array(E) };
}

async function runTask(task, sessions, set, items, inputsDir) {
  const outs = [];
  if (task === 'wakeword') {
    for (const it of items) {
      const r = await wakeClip(sessions, readF32(path.join(inputsDir, it.file)));
      outs.push({ main: r.scores, embeddings: r.embeddings });
    }
    return outs;
  }
  const sess = sessions[0];
  const outName = sess.outputNames[0];
  for (const it of items) {
    const t = await runSimple(sess, set, it, inputsDir, outName);
    outs.push({ main: new Float32Array(t.data), dims: t.dims.map(Number) });
  }
  return outs;
}

function taskMetric(task, set, items, outs, refs, ctx) {
  if (task === 'ocr-rec') {
    let dist = 0, len = 0, exact = 0;
    const samples = [];
    items.forEach((it, i) => {
      const text = ctcGreedy(outs[i].main, outs[i].dims, ctx.keys).trim(); // padding decodes as spaces
      const d = levenshtein(text, it.label);
      dist += d; len += [...it.label].length; if (d === 0) exact++;
      if (d > 0 && samples.length < 3) samples.push({ label: it.label, got: text });
    });
    return { name: 'CER', value: +(dist / len).toFixed(5), line_accuracy: +(exact / items.length).toFixed(4), errors: samples };
  }
  if (task === 'ocr-cls') {
    let ok = 0;
    items.forEach((it, i) => { const p = outs[i].main; if ((p[1] > p[0] ? 1 : 0) === it.label) ok++; });
    return { name: 'accuracy', value: +(ok / items.length).toFixed(4) };
  }
  if (task === 'ocr-det' || task === 'isnet') {
    const thr = set.threshold;
    let inter = 0, uni = 0, pos = 0, n = 0;
    items.forEach((it, i) => {
      const c = maskCounts(refs ? refs[i].main : outs[i].main, outs[i].main, thr);
      inter += c.inter; uni += c.uni; pos += c.pos; n += outs[i].main.length;
    });
    const mask = { name: `mask IoU@${thr} vs fp32`, value: uni ? +(inter / uni).toFixed(5) : 1, positive_fraction: +(pos / n).toFixed(5) };
    if (task === 'isnet') return mask;
    // Boxes (eval/det-metric.js); `summary` follows the mask IoU in the results table.
    const boxes = detSetMetric(outs, refs, items, { threshold: thr });
    return { ...mask, summary: detSummary(boxes), ...boxes };
  }
  if (task === 'wakeword') {
    const thr = set.threshold;
    let ok = 0, flips = 0;
    const per = [];
    items.forEach((it, i) => {
      const mx = Math.max(0, ...outs[i].main);
      const fire = mx >= thr;
      if (fire === (it.label === 1)) ok++;
      if (refs) { const rf = Math.max(0, ...refs[i].main) >= thr; if (rf !== fire) flips++; }
      per.push({ text: it.text, voice: it.voice, truth: it.label, max_score: +mx.toFixed(4), fired: fire });
    });
    return { name: 'accuracy', value: +(ok / items.length).toFixed(4), flips_vs_fp32: refs ? flips : 0, clips: per };
  }
  throw new Error(`no metric for ${task}`);
}

// ---------------------------------------------------------- references ----
function refPaths(refDir, task) {
  return { json: path.join(refDir, `${task}.json`), bin: path.join(refDir, `${task}.f32`) };
}

function saveRefs(refDir, task, outs, meta) {
  fs.mkdirSync(refDir, { recursive: true });
  const p = refPaths(refDir, task);
  const parts = [];
  const index = outs.map((o) => {
    const e = {};
    for (const k of ['main', 'embeddings']) if (o[k]) { e[k] = o[k].length; parts.push(Buffer.from(o[k].buffer, o[k].byteOffset, o[k].byteLength)); }
    return e;
  });
  fs.writeFileSync(p.bin, Buffer.concat(parts));
  fs.writeFileSync(p.json, JSON.stringify({ ...meta, index }, null, 1));
}

function loadRefs(refDir, task, inputsHash, nItems) {
  const p = refPaths(refDir, task);
  if (!fs.existsSync(p.json) || !fs.existsSync(p.bin)) return { error: `no fp32 reference for ${task} in ${refDir} (run the fp32 model once with --save-ref)` };
  const meta = JSON.parse(fs.readFileSync(p.json, 'utf8'));
  if (meta.inputs_hash !== inputsHash) return { error: `fp32 reference for ${task} was made from other inputs (re-run fp32 with --save-ref)` };
  const all = readF32(p.bin);
  let off = 0;
  const refs = meta.index.map((e) => {
    const o = {};
    for (const k of ['main', 'embeddings']) if (e[k]) { o[k] = all.subarray(off, off + e[k]); off += e[k]; }
    return o;
  });
  if (refs.length < nItems) return { error: `fp32 reference for ${task} has ${refs.length} items, need ${nItems}` };
  return { refs, meta };
}

// ---------------------------------------------------------------- main ----
async function main() {
  let args;
  try { args = parseArgs(process.argv.slice(2)); } catch (e) { console.error(`run: error: ${e.message}`); process.exit(2); }
  if (args.help || args.pos.length !== 2) {
    console.error('usage: node eval/run.js TASK MODEL.onnx[,MEL,EMBED,HEAD] [--save-ref] [--latency-runs N] [--limit N] [--out FILE]');
    console.error(`TASK: ${TASKS.join(' | ')}`);
    process.exit(args.help ? 0 : 2);
  }
  const [task, fileArg] = args.pos;
  if (!TASKS.includes(task)) throw new Error(`unknown task '${task}' (known: ${TASKS.join(', ')})`);
  const files = fileArg.split(',');
  if (task === 'wakeword' && files.length !== 3) throw new Error('wakeword needs three files: mel,embedding,head');
  if (task !== 'wakeword' && files.length !== 1) throw new Error(`${task} takes one model file`);
  for (const f of files) if (!fs.existsSync(f)) throw new Error(`model file not found: ${f}`);
  const inputsDir = args.inputs || path.join(cacheDir(), 'inputs');
  const refDir = args.refDir || path.join(cacheDir(), 'ref');
  const manPath = path.join(inputsDir, 'inputs.json');
  if (!fs.existsSync(manPath)) throw new Error(`no inputs at ${inputsDir} (run /usr/bin/python3 eval/make-inputs.py)`);
  const manText = fs.readFileSync(manPath, 'utf8');
  const set = JSON.parse(manText).sets[task];
  if (!set) throw new Error(`inputs.json has no '${task}' set (run /usr/bin/python3 eval/make-inputs.py)`);
  let items = set.items;
  if (args.limit > 0) items = items.slice(0, args.limit);
  const inputsHash = crypto.createHash('sha256').update(JSON.stringify(set.items.map((i) => i.sha256))).digest('hex').slice(0, 16);

  const ctx = {};
  if (task === 'ocr-rec') {
    const kp = path.join(cacheDir(), 'ocr-keys.txt');
    if (!fs.existsSync(kp)) throw new Error(`dictionary ${kp} missing (scripts/fetch-models.sh ocr-keys)`);
    ctx.keys = fs.readFileSync(kp, 'utf8').split('\n');
    if (ctx.keys[ctx.keys.length - 1] === '') ctx.keys.pop();
  }

  // Fidelity at level 'basic'.
  const t0 = Date.now();
  const sessions = [];
  for (const f of files) sessions.push(await session(f, 'basic'));
  const outs = await runTask(task, sessions, set, items, inputsDir);
  const fidelityMs = Date.now() - t0;
  for (const s of sessions) await s.release?.();

  let refs = null;
  let refNote;
  if (args.saveRef) {
    saveRefs(refDir, task, outs, { inputs_hash: inputsHash, models: files.map((f) => ({ file: path.resolve(f), sha256: sha256File(f) })), items: items.length });
  } else {
    const r = loadRefs(refDir, task, inputsHash, items.length);
    if (r.error) refNote = r.error; else refs = r.refs;
  }

  const fid = new Fidelity();
  const fidEmb = new Fidelity();
  if (refs) {
    outs.forEach((o, i) => {
      fid.add(refs[i].main, o.main);
      if (o.embeddings && refs[i].embeddings) fidEmb.add(refs[i].embeddings, o.embeddings);
    });
  }
  const metric = taskMetric(task, set, items, outs, refs, ctx);

  // Latency at the default optimization level, on the first item.
  let latency = null;
  if (args.latencyRuns > 0) {
    const ls = [];
    for (const f of files) ls.push(await ort.InferenceSession.create(f, { logSeverityLevel: 3 }));
    const one = [items[0]];
    await runTask(task, ls, set, one, inputsDir); // warm-up
    const times = [];
    for (let r = 0; r < args.latencyRuns; r++) {
      const s = process.hrtime.bigint();
      await runTask(task, ls, set, one, inputsDir);
      times.push(Number(process.hrtime.bigint() - s) / 1e6);
    }
    latency = { median_ms: +median(times).toFixed(3), min_ms: +Math.min(...times).toFixed(3), runs: times.length, item: items[0].file };
    for (const s of ls) await s.release?.();
  }

  const result = {
    task,
    models: files.map((f) => ({ file: f, bytes: fs.statSync(f).size })),
    bytes: files.reduce((s, f) => s + fs.statSync(f).size, 0),
    items: items.length,
    fidelity: refs ? fid.result() : null,
    fidelity_embeddings: refs && task === 'wakeword' ? fidEmb.result() : undefined,
    reference: args.saveRef ? 'saved (this run is the reference)' : (refs ? 'fp32' : refNote),
    metric,
    latency,
    fidelity_run_ms: fidelityMs,
    ort_version: require('onnxruntime-node/package.json').version,
  };
  if (args.saveRef) result.fidelity = { sqnr_db: 999, cosine: 1, max_abs_diff: 0, elements: outs.reduce((s, o) => s + o.main.length, 0) };
  const text = JSON.stringify(result, null, 1);
  if (args.out) fs.writeFileSync(args.out, text + '\n');
  process.stdout.write(text + '\n');
}

if (require.main === module) {
  main().catch((e) => {
    console.error(`run: error: ${(e && e.message ? e.message : String(e)).split('\n')[0]}`);
    process.exit(2);
  });
}

module.exports = { levenshtein, ctcGreedy, Fidelity, maskCounts, median, runTask, session, cacheDir, taskMetric };

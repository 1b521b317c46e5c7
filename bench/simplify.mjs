#!/usr/bin/env node
// Benchmark of the `simplify` pipeline on the real models of eval/models.json, against onnxsim
// 0.7.3 (WebAssembly, bench/onnxsim/package.json) in the same run.
//
//   node bench/simplify.mjs [--runs N] [--ids a,b] [--update-doc docs/performance.md]
//
// For each model: node counts (subgraphs included) of the original, `onnx-opt -p simplify` and
// onnxsim's output; ONNX Runtime outputs of both simplified models against the original on the
// same real input (SQNR, "exact" when bit-identical; graph optimization level basic); whether
// a second `simplify` run changes the file (idempotence); latency at ORT's default level with 2
// intra-op threads (thread pools not spinning), the three models interleaved, median of N runs (default 9) after 2 warm-ups
// each, the order rotating every round (fast models run more: about 3 s of timing each); how
// many weights `upgrade-opset{target=21},quantize-weights{bits=4}` quantizes without and after
// simplify. Exits 1 when an output is below 80 dB, a second run changes the file, or fewer
// weights are quantized after simplify. --update-doc replaces the block between the simplify-bench markers of that file.
// Needs: build/driver/onnx-opt (or $ONNX_OPT), eval/node_modules (npm ci), bench/onnxsim/
// node_modules (npm ci there) and the models (scripts/fetch-models.sh).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ort = createRequire(path.join(root, 'eval', 'package.json'))('onnxruntime-node');
const onnxsimEntry = path.join(root, 'bench', 'onnxsim', 'node_modules', 'onnxsim', 'index.mjs');
const bin = process.env.ONNX_OPT || path.join(root, 'build', 'driver', 'onnx-opt');
const cache = process.env.ONNX_OPT_MODEL_CACHE || path.join(os.homedir(), '.cache', 'onnx-opt', 'models');

// Input per model: the first real input of an eval/make-inputs.py set (`set`), else seeded
// uniform values in [-scale, scale) of `shape` (the wake-word parts take features).
const MODELS = {
  'ocr-det': { set: 'ocr-det' },
  'ocr-rec': { set: 'ocr-rec' },
  'ocr-cls': { set: 'ocr-cls' },
  'oww-mel': { set: 'wakeword' },
  'oww-embed': { shape: [1, 76, 32, 1] },
  'oww-jarvis': { shape: [1, 16, 96] },
  isnet: { set: 'isnet' },
};

function die(msg) {
  console.error(`simplify-bench: error: ${msg}`);
  process.exit(1);
}

const args = { runs: 9, ids: Object.keys(MODELS), doc: null };
for (let i = 2; i < process.argv.length; i++) {
  const k = process.argv[i];
  if (k === '--runs') args.runs = Number(process.argv[++i]);
  else if (k === '--ids') args.ids = process.argv[++i].split(',');
  else if (k === '--update-doc') args.doc = process.argv[++i];
  else die(`unknown argument ${k}`);
}
if (!(args.runs >= 7)) die('--runs must be at least 7');

function onnxOpt(input, pipeline, output) {
  const r = spawnSync(bin, [input, '-p', pipeline, '-o', output], { encoding: 'utf8' });
  if (r.status !== 0) die(`onnx-opt -p '${pipeline}' ${input}: ${(r.stderr || r.error || '').toString().trim()}`);
}

// Weights quantize-weights stores quantized (its weights-quantized statistic) after `pipeline`.
function weightsQuantized(file, pipeline, work) {
  const out = path.join(work, 'quantized.onnx');
  const r = spawnSync(bin, [file, '-p', pipeline, '--stats', '-o', out], { encoding: 'utf8' });
  if (r.status !== 0) die(`onnx-opt -p '${pipeline}' ${file}: ${(r.stderr || '').trim()}`);
  const m = /^\s*\(S\)\s+(\d+) weights-quantized/m.exec(r.stderr);
  if (!m) die(`no weights-quantized statistic for ${file}`);
  fs.rmSync(out, { force: true });
  return Number(m[1]);
}

// Nodes in the ONNX text form: lines "outputs = Op <attrs> (inputs)" (subgraph bodies included).
function countNodes(file, work) {
  const text = path.join(work, `${path.basename(file)}.onnxtxt`);
  onnxOpt(file, '', text);
  const lines = fs.readFileSync(text, 'utf8').split('\n');
  return lines.filter((l) => /=\s*([A-Za-z_][\w.]*\.)?[A-Z][A-Za-z0-9_]*\s*[<(]/.test(l) && !/^\s*[a-z0-9]+\[/.test(l)).length;
}

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function session(file, level) {
  // Spinning pools would keep the previous model's threads busy while the next one runs.
  return ort.InferenceSession.create(file, {
    graphOptimizationLevel: level, intraOpNumThreads: 2, interOpNumThreads: 1, logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  });
}

function feeds(sess, spec) {
  if (spec.set) {
    const dir = path.join(cache, 'inputs');
    const item = JSON.parse(fs.readFileSync(path.join(dir, 'inputs.json'), 'utf8')).sets[spec.set].items[0];
    const bytes = fs.readFileSync(path.join(dir, item.file));
    const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    if (spec.scale) for (let i = 0; i < data.length; i++) data[i] *= spec.scale;
    return { [sess.inputNames[0]]: new ort.Tensor('float32', data, item.shape) };
  }
  const next = rng(1);
  const out = {};
  for (const name of sess.inputNames) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = (next() * 2 - 1) * (spec.scale || 1);
    out[name] = new ort.Tensor('float32', data, spec.shape);
  }
  return out;
}

// Worst SQNR over the outputs (dB; Infinity when bit-identical).
function sqnr(ref, got) {
  let worst = Infinity;
  for (const name of Object.keys(ref)) {
    const a = ref[name].data;
    const b = got[name]?.data;
    if (!b || b.length !== a.length) return -Infinity;
    let sig = 0, err = 0;
    for (let i = 0; i < a.length; i++) {
      sig += Number(a[i]) ** 2;
      err += (Number(a[i]) - Number(b[i])) ** 2;
    }
    const db = err === 0 ? Infinity : 10 * Math.log10(sig / err);
    worst = Math.min(worst, db);
  }
  return worst;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const fmtDb = (x) => (x === Infinity ? 'exact' : x.toFixed(1));

async function main() {
  const { simplify } = await import(onnxsimEntry).catch(() => die('onnxsim missing (cd bench/onnxsim && npm ci)'));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'simplify-bench-'));
  const rows = [];
  for (const id of args.ids) {
    const spec = MODELS[id];
    if (!spec) die(`unknown model ${id}`);
    const orig = path.join(cache, `${id}.onnx`);
    if (!fs.existsSync(orig)) die(`${orig} missing (scripts/fetch-models.sh)`);
    const ours = path.join(work, `${id}.simplify.onnx`);
    const twice = path.join(work, `${id}.simplify2.onnx`);
    const sim = path.join(work, `${id}.onnxsim.onnx`);
    let t0 = Date.now();
    onnxOpt(orig, 'simplify', ours);
    const oursSeconds = (Date.now() - t0) / 1000;
    onnxOpt(ours, 'simplify', twice);
    const idempotent = Buffer.compare(fs.readFileSync(ours), fs.readFileSync(twice)) === 0;
    t0 = Date.now();
    // onnxsim prints its op-count tables on stdout, where this script writes its own table.
    const log = console.log;
    console.log = () => {};
    const simResult = await simplify(fs.readFileSync(orig)).finally(() => { console.log = log; });
    const simSeconds = (Date.now() - t0) / 1000;
    fs.writeFileSync(sim, simResult.model);
    const files = [orig, ours, sim];
    // quantize-weights after simplify must quantize no fewer weights (folded BatchNorm weights
    // are still weights).
    const quantize = 'upgrade-opset{target=21},quantize-weights{bits=4}';
    const quantized = [weightsQuantized(orig, quantize, work), weightsQuantized(orig, `simplify,${quantize}`, work)];
    const nodes = files.map((f) => countNodes(f, work));
    // Fidelity at level basic.
    const basic = await Promise.all(files.map((f) => session(f, 'basic')));
    const input = feeds(basic[0], spec);
    const outs = [];
    for (const s of basic) outs.push(await s.run(input));
    const fidelity = [sqnr(outs[0], outs[1]), sqnr(outs[0], outs[2])];
    // Latency at the default level, interleaved.
    const sessions = await Promise.all(files.map((f) => session(f, 'all')));
    const times = files.map(() => []);
    let warm = 0;
    for (let w = 0; w < 2; w++) {
      for (const s of sessions) {
        const start = process.hrtime.bigint();
        await s.run(input);
        warm = Math.max(warm, Number(process.hrtime.bigint() - start) / 1e6);
      }
    }
    // Fast models get more runs: at least --runs, and about 3 s of timing per model.
    const runs = Math.min(1000, Math.max(args.runs, Math.ceil(3000 / warm)));
    for (let r = 0; r < runs; r++) {
      // Rotate the order each round so no model always runs first.
      for (let j = 0; j < sessions.length; j++) {
        const k = (j + r) % sessions.length;
        const start = process.hrtime.bigint();
        await sessions[k].run(input);
        times[k].push(Number(process.hrtime.bigint() - start) / 1e6);
      }
    }
    const ms = times.map(median);
    // Speed-up: the median over rounds of original / simplified time, each ratio taken within one
    // round (the runs of a round are back to back, so a burst of load on the shared machine
    // slows all three alike).
    const speedup = [1, 2].map((k) => median(times[0].map((t, r) => t / times[k][r])));
    const row = { id, nodes, fidelity, ms, speedup, runs, quantized, idempotent, oursSeconds, simSeconds };
    rows.push(row);
    console.error(`${id}: nodes ${nodes.join(' / ')}; SQNR ${fidelity.map(fmtDb).join(' / ')}; ms ${ms.map((x) => x.toFixed(2)).join(' / ')}; speed-up ${speedup.map((x) => x.toFixed(3)).join(' / ')}; idempotent ${idempotent}; quantized ${quantized.join(' / ')}`);
  }
  const lines = [
    '| model | nodes: original | simplify | onnxsim | SQNR simplify dB | SQNR onnxsim dB | ORT ms original | simplify | onnxsim | runs | speed-up simplify | speed-up onnxsim | simplify twice = once | 4-bit weights: original | after simplify | onnx-opt s | onnxsim s |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(`| ${r.id} | ${r.nodes[0]} | ${r.nodes[1]} | ${r.nodes[2]} | ${fmtDb(r.fidelity[0])} | ${fmtDb(r.fidelity[1])} | ${r.ms[0].toFixed(2)} | ${r.ms[1].toFixed(2)} | ${r.ms[2].toFixed(2)} | ${r.runs} | ${r.speedup[0].toFixed(3)}x | ${r.speedup[1].toFixed(3)}x | ${r.idempotent ? 'yes' : 'NO'} | ${r.quantized[0]} | ${r.quantized[1]} | ${r.oursSeconds.toFixed(2)} | ${r.simSeconds.toFixed(2)} |`);
  }
  const table = lines.join('\n');
  console.log(table);
  if (args.doc) {
    const begin = '<!-- simplify-bench:begin -->', end = '<!-- simplify-bench:end -->';
    const doc = fs.readFileSync(args.doc, 'utf8');
    const i = doc.indexOf(begin), j = doc.indexOf(end);
    if (i < 0 || j < i) die(`${args.doc} has no ${begin} ... ${end} block`);
    const stamp = `Measured ${new Date().toISOString().slice(0, 16)}Z with \`node bench/simplify.mjs --runs ${args.runs}${args.ids.length === Object.keys(MODELS).length ? '' : ` --ids ${args.ids.join(',')}`} --update-doc ${args.doc}\` (ONNX Runtime ${ort.env.versions?.common ?? '1.30'} node, onnxsim 0.7.3 wasm).`;
    fs.writeFileSync(args.doc, `${doc.slice(0, i + begin.length)}\n${stamp}\n\n${table}\n${doc.slice(j)}`);
  }
  const bad = rows.filter((r) => r.fidelity[0] < 80 || !r.idempotent || r.quantized[1] < r.quantized[0]);
  fs.rmSync(work, { recursive: true, force: true });
  if (bad.length) die(`below 80 dB, not idempotent or fewer weights quantized: ${bad.map((r) => r.id).join(', ')}`);
}

main().catch((e) => die(e.stack || e));

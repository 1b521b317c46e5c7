#!/usr/bin/env node
// The ORT op-latency table of quantize-activations' per-layer decisions
// (passes/integer/ort_latency.json, format in passes/integer/README or notes/INTEGER.md).
//
//   node bench/op-latency.mjs [--models ocr-det,isnet,...] [--per-kind K] [--rounds R]
//                             [--kinds conv,add,...] [--min-ms MS] [--out FILE]
//
// For every evaluation model (eval/models.json, cached by scripts/fetch-models.sh) it applies
// the preparation optimize-speed applies (upgrade-opset, set-input-shapes with the first
// evaluation input's shape, simplify), lists every node's op kind and shapes, keeps up to K
// distinct shapes per kind spread over their MAC counts, and times each as a single-op model
// in onnxruntime-node: fp32 against the QDQ int8 form ORT fuses (uint8 in, uint8 out; see
// bench/lib/op-models.mjs), ORT default optimization level, 2 threads, interleaved, median of R
// rounds. It also times QuantizeLinear/DequantizeLinear of activation tensors (entering or
// leaving a quantized region: `boundaries`). Needs build/driver/onnx-opt (ONNX_OPT overrides).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadPrepared, parseGraphText } from './lib/graph-text.mjs';
import { classify, buildModels, boundaryModels } from './lib/op-models.mjs';
import { ROOT, ORT_VERSION, THREADS, createSession, makeFeeds, interleave, runner, machine, onnxOptBin, modelCache, readJson } from './lib/timing.mjs';

const ALL_MODELS = ['ocr-det', 'ocr-rec', 'ocr-cls', 'oww-mel', 'oww-embed', 'oww-jarvis', 'isnet'];

function parseArgs(argv) {
  const a = { models: ALL_MODELS, perKind: 8, rounds: 7, minMs: 20, out: path.join(ROOT, 'passes', 'integer', 'ort_latency.json') };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => { if (i + 1 >= argv.length) throw new Error(`${k} needs a value`); return argv[++i]; };
    if (k === '--models') a.models = val().split(',');
    else if (k === '--per-kind') a.perKind = Number(val());
    else if (k === '--rounds') a.rounds = Number(val());
    else if (k === '--kinds') a.kinds = val().split(',');
    else if (k === '--min-ms') a.minMs = Number(val());
    else if (k === '--out') a.out = val();
    else if (k === '-h' || k === '--help') a.help = true;
    else throw new Error(`unknown argument ${k}`);
  }
  if (!(a.rounds >= 7)) throw new Error('--rounds must be at least 7 (median of >= 7 interleaved runs)');
  return a;
}

// Input shapes: the first item of each evaluation input set (eval/make-inputs.py); the wake-word
// parts get the shapes the pipeline feeds them for the first utterance (eval/run.js).
export function inputShapes(id) {
  const sets = readJson(path.join(modelCache(), 'inputs', 'inputs.json')).sets;
  const first = (set) => sets[set].items[0].shape;
  const samples = first('wakeword')[1];
  const frames = Math.floor(samples / 160) - 3;
  const windows = Math.floor((frames - 76) / 8) + 1;
  switch (id) {
    case 'ocr-det': return `x:${first('ocr-det').join('x')}`;
    case 'ocr-rec': return `x:${first('ocr-rec').join('x')}`;
    case 'ocr-cls': return `x:${first('ocr-cls').join('x')}`;
    case 'isnet': return `input:${first('isnet').join('x')}`;
    case 'oww-mel': return `input:1x${samples}`;
    case 'oww-embed': return `input_1:${windows}x76x32x1`;
    case 'oww-jarvis': return 'x.1:1x16x96';
    default: throw new Error(`no input shape known for model '${id}'`);
  }
}

export const preparation = (shapes) => `upgrade-opset{target=21},set-input-shapes{shapes=${shapes}},simplify`;

const METHOD = (args) => `ORT default optimization level, intraOpNumThreads ${THREADS}; fp32 vs QDQ int8 single-op models `
  + '(uint8 in/out, int8 per-channel 7-bit weights with zero points, int32 bias); single runs interleaved (fp32, int8, '
  + `overhead; ${args.rounds} rounds of as many passes as make a round last ${args.minMs} ms), median over all runs; `
  + 'spread_us = half the interquartile range of the noisier candidate; outputs preallocated; times in microseconds '
  + 'per run, minus the run() overhead of a one-element Identity model timed in the same rounds (overhead_us). '
  + "int8_ort_ops: the ops ORT runs after its optimizations (Transpose = its NHWC layout change at the model's edges, "
  + 'which cancels inside a chain of quantized ops). boundaries: QuantizeLinear / DequantizeLinear of one activation tensor.';

function collect(models) {
  const byKey = new Map();
  const activationSizes = new Map();
  for (const id of models) {
    const file = path.join(modelCache(), `${id}.onnx`);
    if (!fs.existsSync(file)) throw new Error(`${file} missing (scripts/fetch-models.sh ${id})`);
    const g = loadPrepared(onnxOptBin(), file, preparation(inputShapes(id)));
    for (const node of g.nodes) {
      const c = classify(node, g.values);
      if (!c) continue;
      const key = `${node.op}|${c.kind}|${c.shape}|${node.attrs}`;
      const e = byKey.get(key) || { ...c, op: node.op, node, values: g.values, count: 0, models: new Set() };
      e.count++;
      e.models.add(id);
      byKey.set(key, e);
      if (c.kind.startsWith('conv')) {
        const d = g.values.get(node.inputs[0]).dims;
        activationSizes.set(d.join('x'), d);
      }
    }
  }
  return { entries: [...byKey.values()], activationSizes: [...activationSizes.values()] };
}

// Up to k items spread evenly (by rank of the key) over the list sorted by key.
function spread(list, k, key) {
  const s = [...list].sort((a, b) => key(a) - key(b));
  if (s.length <= k) return s;
  if (k === 1) return [s[Math.floor(s.length / 2)]];
  const picked = new Set();
  for (let i = 0; i < k; i++) picked.add(Math.round((i * (s.length - 1)) / (k - 1)));
  return [...picked].map((i) => s[i]);
}

function toOnnx(text, file) {
  fs.writeFileSync(`${file}.onnxtxt`, text);
  const r = spawnSync(onnxOptBin(), [`${file}.onnxtxt`, '-o', `${file}.onnx`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`onnx-opt ${file}.onnxtxt: ${(r.stderr || '').trim().split('\n').pop()}`);
  return `${file}.onnx`;
}

// The op types ORT runs after its optimizations (from the model it saves).
function ortOps(optimized) {
  const r = spawnSync(onnxOptBin(), [optimized, '--emit=text', '--elide-tensors-larger-than=0'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) return null;
  const ops = parseGraphText(r.stdout).nodes.map((n) => n.op.replace(/^com\.microsoft\.(nchwc\.)?/, ''));
  return [...new Set(ops)].join(',');
}

// A one-element Identity: the fixed cost of one session.run() call from JS, timed with each
// pair and subtracted, so small ops are not dominated by the binding's overhead.
const IDENTITY = '<\n  ir_version: 10,\n  opset_import: ["" : 21]\n>\nid (float[1] x) => (float[1] y)\n{\n  y = Identity (x)\n}\n';

async function timePair(fp32File, fp32Feeds, int8File, int8Feeds, args, dir) {
  const optimized = path.join(dir, 'ort-optimized.onnx');
  const a = await createSession(fp32File);
  const b = await createSession(int8File, { optimizedModelFilePath: optimized });
  const c = await createSession(toOnnx(IDENTITY, path.join(dir, 'identity')));
  const runs = [await runner(a, makeFeeds(fp32Feeds)), await runner(b, makeFeeds(int8Feeds)),
    await runner(c, makeFeeds([{ name: 'x', type: 'float32', dims: [1] }]))];
  const r = await interleave(runs.map((run) => ({ run })),
    { rounds: args.rounds, minMs: args.minMs });
  for (const s of [a, b, c]) await s.release?.();
  const overhead = r.medians[2];
  const net = (us) => Math.max(0.1, us - overhead);
  return { fp32: net(r.medians[0]), int8: net(r.medians[1]), overhead, spread: Math.max(r.spread[0], r.spread[1]), ops: fs.existsSync(optimized) ? ortOps(optimized) : null };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    console.log(fs.readFileSync(new URL(import.meta.url), 'utf8').split('\n').slice(1, 15).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
    return;
  }
  const start = machine();
  const { entries, activationSizes } = collect(args.models);
  const kinds = [...new Set(entries.map((e) => e.kind))].filter((k) => !args.kinds || args.kinds.includes(k)).sort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'op-latency-'));
  const out = [];
  const skipped = [];
  const boundaries = [];
  // Written after every kind (`partial: true` until the end), so an interrupted run keeps rows.
  const write = (done) => {
    const end = machine();
    const table = {
      format: 'onnx-opt-op-latency-1',
      runtime: `onnxruntime-node ${ORT_VERSION}`,
      threads: THREADS,
      command: `node bench/op-latency.mjs ${process.argv.slice(2).join(' ')}`.trim(),
      cpu: start.cpu,
      measured: new Date().toISOString(),
      load: { start: start.load, end: end.load },
      ...(done ? {} : { partial: true }),
      method: METHOD(args),
      preparation: preparation('<first evaluation input>'),
      entries: out,
      boundaries,
      skipped,
    };
    fs.mkdirSync(path.dirname(args.out), { recursive: true });
    fs.writeFileSync(args.out, `${JSON.stringify(table, null, 1)}\n`);
  };
  for (const kind of kinds) {
    const chosen = spread(entries.filter((e) => e.kind === kind), args.perKind, (e) => e.macs);
    for (const e of chosen) {
      const m = buildModels(e.node, e.values, e.roles);
      let r;
      try {
        r = await timePair(toOnnx(m.fp32, path.join(dir, 'fp32')), m.feeds.fp32, toOnnx(m.int8, path.join(dir, 'int8')), m.feeds.int8, args, dir);
      } catch (err) {
        // One shape ORT cannot run (or a model it refuses) costs that row, not the table.
        skipped.push({ kind, shape: e.shape, why: err.message.split('\n')[0] });
        console.error(`${kind.padEnd(20)} ${e.shape.padEnd(40)} skipped: ${err.message.split('\n')[0]}`);
        continue;
      }
      const row = { kind, op: e.op, shape: e.shape, macs: e.macs, fp32_us: +r.fp32.toFixed(1), int8_us: +r.int8.toFixed(1),
        speedup: +(r.fp32 / r.int8).toFixed(3), overhead_us: +r.overhead.toFixed(1), spread_us: +r.spread.toFixed(1), count: e.count, models: [...e.models].sort(), int8_ort_ops: r.ops };
      out.push(row);
      console.error(`${kind.padEnd(20)} ${e.shape.padEnd(40)} fp32 ${row.fp32_us} us  int8 ${row.int8_us} us  x${row.speedup}  [${r.ops}]`);
    }
    write(false);
  }
  if (!args.kinds || args.kinds.includes('boundaries')) {
    for (const dims of spread(activationSizes, 6, (d) => d.reduce((x, y) => x * y, 1))) {
      const m = boundaryModels(dims);
      const r = await timePair(toOnnx(m.q, path.join(dir, 'q')), m.feedsQ, toOnnx(m.dq, path.join(dir, 'dq')), m.feedsDq, args, dir);
      const elements = dims.reduce((x, y) => x * y, 1);
      boundaries.push({ shape: dims.join('x'), elements, quantize_us: +r.fp32.toFixed(1), dequantize_us: +r.int8.toFixed(1) });
      console.error(`boundary ${dims.join('x').padEnd(20)} Q ${r.fp32.toFixed(1)} us  DQ ${r.int8.toFixed(1)} us`);
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  write(true);
  console.error(`wrote ${args.out}: ${out.length} entries, ${boundaries.length} boundaries`);
}

main().catch((e) => { console.error(`op-latency: error: ${e.message}`); process.exit(2); });

#!/usr/bin/env node
// Which layers of an optimized model lose time against its fp32 graph, measured in the real
// graph: ONNX Runtime's profiler (default optimization level, 2 threads) on both models for one
// input, a node's time is the median over R runs of its kernels' time in a run (a warm-up run dropped). Give the fp32 model
// as optimize-speed{prepare-only=true} leaves it, so node and tensor names are the ones the
// quantized graph has. ORT's names are mapped back to the graph's nodes: a fused node keeps its
// node's name (plus `_token_N`), an NCHWc Conv is `<output>_nchwc`, quantize-activations' Q/DQ
// are `<tensor>_(de)quantized`: all charged to the node producing that tensor; nodes ORT made
// up (Reorder*, layout Transposes) are summed under their op kind.
//
//   node bench/layer-profile.mjs PREPARED.onnx OPTIMIZED.onnx --input FILE.f32 --shape 1x3x48x192
//                                [--runs R] [--top N] [--json OUT]
//
// Prints per op kind and per node: fp32 us, optimized us, difference (positive = slower).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ort, createSession, machine, onnxOptBin, median } from './lib/timing.mjs';
import { loadPrepared } from './lib/graph-text.mjs';

function parseArgs(argv) {
  const a = { pos: [], runs: 10, top: 25 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => { if (i + 1 >= argv.length) throw new Error(`${k} needs a value`); return argv[++i]; };
    if (k === '--input') a.input = val();
    else if (k === '--shape') a.shape = val().split('x').map(Number);
    else if (k === '--runs') a.runs = Number(val());
    else if (k === '--top') a.top = Number(val());
    else if (k === '--json') a.json = val();
    else if (k.startsWith('--')) throw new Error(`unknown argument ${k}`);
    else a.pos.push(k);
  }
  if (a.pos.length !== 2 || !a.input || !a.shape) throw new Error('usage: layer-profile.mjs FP32.onnx OPTIMIZED.onnx --input FILE.f32 --shape DxDx...');
  return a;
}

// Kernel time per node name (base name, `_token_N` removed) and per op kind, in us per run.
async function profile(file, feedsOf, runs) {
  const prefix = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'layer-profile-')), 'p');
  const s = await createSession(file, { enableProfiling: true, profileFilePrefix: prefix });
  const feeds = feedsOf(s);
  await s.run(feeds);
  const t0 = Date.now();
  for (let i = 0; i < runs; i++) await s.run(feeds);
  const wall = (Date.now() - t0) * 1e3 / runs;
  s.endProfiling();
  const dir = path.dirname(prefix);
  const json = fs.readdirSync(dir).find((f) => f.endsWith('.json'));
  const events = JSON.parse(fs.readFileSync(path.join(dir, json), 'utf8'));
  fs.rmSync(dir, { recursive: true, force: true });
  const kernels = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'));
  // Every run executes the same kernels in the same order: split the events into runs, drop
  // the warm-up, and take per node (and per op kind) the median over runs of its time in a run,
  // so a run in which the machine preempted a kernel does not count.
  const perRun = kernels.length / (runs + 1);
  const nodes = new Map();
  const kinds = new Map();
  for (let r = 1; r <= runs; r++) {
    const seen = new Map();
    const seenKinds = new Map();
    for (const e of kernels.slice(Math.round(r * perRun), Math.round((r + 1) * perRun))) {
      const name = e.name.replace(/_kernel_time$/, '').replace(/_token_\d+$/, '');
      const op = e.args.op_name;
      const n = nodes.get(name) || { name, ops: new Set(), runs: [] };
      n.ops.add(op);
      nodes.set(name, n);
      seen.set(name, (seen.get(name) || 0) + e.dur);
      seenKinds.set(op, (seenKinds.get(op) || 0) + e.dur);
    }
    for (const [name, us] of seen) nodes.get(name).runs.push(us);
    for (const [op, us] of seenKinds) kinds.set(op, [...(kinds.get(op) || []), us]);
  }
  for (const n of nodes.values()) n.us = median(n.runs);
  for (const [op, list] of kinds) kinds.set(op, median(list));
  return { nodes, kinds, wall };
}

// The graph node an ORT kernel name belongs to (see the header), or `(ORT <op>)`.
function ownerOf(producer, nodeNames) {
  return (name, op) => {
    if (nodeNames.has(name)) return name;
    const tensor = name.replace(/_nchwc$/, '').replace(/_(de)?quantized$/, '');
    if (producer.has(tensor)) return producer.get(tensor);
    return `(ORT ${op})`;
  };
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const buf = fs.readFileSync(a.input);
  const x = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const feedsOf = (s) => ({ [s.inputNames[0]]: new ort.Tensor('float32', x, a.shape) });
  const load = machine().load;
  const f = await profile(a.pos[0], feedsOf, a.runs);
  const q = await profile(a.pos[1], feedsOf, a.runs);
  const g = loadPrepared(onnxOptBin(), a.pos[0], '');
  const producer = new Map();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n.name || n.outputs[0]);
  const owner = ownerOf(producer, new Set(g.nodes.map((n) => n.name || n.outputs[0])));
  const rows = new Map();
  const add = (nodes, side) => {
    for (const [name, n] of nodes) {
      const key = owner(name, [...n.ops][0]);
      const r = rows.get(key) || { name: key, fp32_ops: '', fp32_us: 0, opt_ops: '', opt_us: 0 };
      r[`${side}_ops`] = [...new Set([...r[`${side}_ops`].split('+').filter(Boolean), ...n.ops])].join('+');
      r[`${side}_us`] += n.us;
      rows.set(key, r);
    }
  };
  add(f.nodes, 'fp32');
  add(q.nodes, 'opt');
  const list = [...rows.values()].map((r) => ({ ...r, diff_us: r.opt_us - r.fp32_us }));
  const fmt = (v) => v.toFixed(0).padStart(8);
  console.log(`load: ${load}`);
  console.log(`wall per run: fp32 ${(f.wall / 1e3).toFixed(2)} ms, optimized ${(q.wall / 1e3).toFixed(2)} ms`);
  console.log('\nper op kind (us per run):');
  const kinds = new Set([...f.kinds.keys(), ...q.kinds.keys()]);
  for (const k of [...kinds].sort((x, y) => (q.kinds.get(y) || 0) + (f.kinds.get(y) || 0) - (q.kinds.get(x) || 0) - (f.kinds.get(x) || 0))) {
    console.log(`  ${k.padEnd(28)} fp32 ${fmt(f.kinds.get(k) || 0)}  optimized ${fmt(q.kinds.get(k) || 0)}`);
  }
  console.log(`\nnodes that lose most (optimized - fp32, us per run; top ${a.top}):`);
  for (const r of list.sort((x, y) => y.diff_us - x.diff_us).slice(0, a.top)) {
    console.log(`  ${fmt(r.diff_us)}  ${r.name.padEnd(40)} fp32 ${fmt(r.fp32_us)} [${r.fp32_ops}]  optimized ${fmt(r.opt_us)} [${r.opt_ops}]`);
  }
  if (a.json) fs.writeFileSync(a.json, `${JSON.stringify({ load, fp32_wall_us: f.wall, optimized_wall_us: q.wall, kinds: { fp32: Object.fromEntries(f.kinds), optimized: Object.fromEntries(q.kinds) }, nodes: list }, null, 1)}\n`);
}

main().catch((e) => { console.error(`layer-profile: error: ${e.message.split('\n')[0]}`); process.exit(2); });

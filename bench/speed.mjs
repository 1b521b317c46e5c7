#!/usr/bin/env node
// Integer-inference benchmark (issue 15): each evaluation model as shipped (fp32; ISNet's fp16
// file) against what optimize-speed makes of it, in one run: latency in ONNX Runtime (default
// optimization level, 2 threads, single runs interleaved, median of >= 7 rounds, speed ratio
// fp32 / optimized from the same rounds, and "paired": the median of the ratios within each
// pass, robust to load that drifts between passes) and fidelity on the real integer kernels
// (the same default-level sessions) with the task metric, on the evaluation inputs
// (<cache>/inputs), which the calibration (<cache>/calib, eval/activations.js --prepare speed)
// never sees. ISNet also runs imgly's dynamic-uint8 file (isnet-uint8) in the same rounds.
// Environment: ONNX_OPT_BENCH_THREADS (default 2), ONNX_OPT_BENCH_SPINNING=0 (thread pools do
// not spin; bench/lib/timing.mjs says when that matters).
//
//   node bench/speed.mjs [--targets ocr-cls,ocr-det,ocr-rec,wakeword,isnet] [--configs speed,int4]
//                        [--config NAME=PIPELINE]... [--rounds R] [--limit N] [--work DIR]
//                        [--out FILE.json] [--recalibrate] [--float-members oww-mel,...]
//                        [--calibration-what ranges|ranges,layer-noise]
//
// --calibration-what: the statistics the calibration measures (default ranges; ranges,layer-noise
// adds the per-layer output noise quantize-activations' min-output-sqnr budget spends).
// Configs: speed = optimize-speed{calibration=@CALIBRATION@}, int4 = the same with weights=int4
// (targets with MatMuls); --config adds one (@CALIBRATION@ = the member's .calib).
// --float-members: those members of a multi-model target stay the fp32 file in every config. Work files
// (calibrations, optimized models): --work, default <cache>/work/speed. Prints a Markdown table;
// --out writes the JSON. Needs build/driver/onnx-opt (ONNX_OPT), eval/node_modules, the models
// (scripts/fetch-models.sh, isnet-uint8 included) and inputs (eval/make-inputs.py).
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { ROOT, ORT_VERSION, THREADS, SPINNING, createSession, interleave, machine, onnxOptBin, modelCache, readJson, ort } from './lib/timing.mjs';

const evalRequire = createRequire(path.join(ROOT, 'eval', 'package.json'));
const { runTask, taskMetric, Fidelity } = evalRequire('./run.js');

const BUILTIN = {
  speed: 'optimize-speed{calibration=@CALIBRATION@}',
  int4: 'optimize-speed{calibration=@CALIBRATION@,weights=int4}',
};
const MATMUL_ONLY = new Set(['int4']);
const BASELINES = { isnet: [{ name: 'imgly-uint8', members: ['isnet-uint8'] }] };

function parseArgs(argv) {
  const a = { targets: ['ocr-cls', 'ocr-det', 'ocr-rec', 'wakeword', 'isnet'], configs: ['speed', 'int4'], extra: {}, rounds: 7, limit: 0, floatMembers: null, calibrationWhat: 'ranges' };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => { if (i + 1 >= argv.length) throw new Error(`${k} needs a value`); return argv[++i]; };
    if (k === '--targets') a.targets = val().split(',');
    else if (k === '--configs') a.configs = val().split(',').filter(Boolean);
    else if (k === '--config') { const v = val(); const eq = v.indexOf('='); if (eq < 1) throw new Error('--config NAME=PIPELINE'); a.extra[v.slice(0, eq)] = v.slice(eq + 1); }
    else if (k === '--rounds') a.rounds = Number(val());
    else if (k === '--limit') a.limit = Number(val());
    else if (k === '--work') a.work = val();
    else if (k === '--out') a.out = val();
    else if (k === '--recalibrate') a.recalibrate = true;
    else if (k === '--calibration-what') a.calibrationWhat = val();
    else if (k === '--float-members') a.floatMembers = new Set(val().split(','));
    else if (k === '-h' || k === '--help') a.help = true;
    else throw new Error(`unknown argument ${k}`);
  }
  if (!(a.rounds >= 7)) throw new Error('--rounds must be at least 7');
  for (const c of a.configs) if (!BUILTIN[c]) throw new Error(`unknown config '${c}' (built in: ${Object.keys(BUILTIN).join(', ')}; add one with --config NAME=PIPELINE)`);
  a.pipelines = { ...Object.fromEntries(a.configs.map((c) => [c, BUILTIN[c]])), ...a.extra };
  a.work = a.work || path.join(modelCache(), 'work', 'speed');
  return a;
}

const sha256 = (file) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

// The .calib of every member of `target`, measured by eval/activations.js on the calibration
// set with optimize-speed's preparation; kept while the prepared graphs (their bytes) match.
function calibrate(target, a) {
  const dir = path.join(a.work, 'calibration', target.id);
  const stamp = path.join(dir, 'stamp.json');
  fs.mkdirSync(dir, { recursive: true });
  const prepared = target.members.map((m) => {
    const out = path.join(dir, `${m}.prepared.onnx`);
    const r = spawnSync(onnxOptBin(), [path.join(modelCache(), `${m}.onnx`), '-p', 'optimize-speed{prepare-only=true}', '-o', out], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`onnx-opt ${m} -p optimize-speed{prepare-only=true}: ${(r.stderr || '').trim().split('\n').pop()}`);
    const h = sha256(out);
    fs.rmSync(out);
    return h;
  });
  const want = a.calibrationWhat === 'ranges' ? { prepared } : { prepared, what: a.calibrationWhat };
  if (!a.recalibrate && fs.existsSync(stamp) && JSON.stringify(readJson(stamp)) === JSON.stringify(want)) return dir;
  console.error(`speed: calibrating ${target.id} (eval/activations.js --prepare speed --what ${a.calibrationWhat})`);
  const r = spawnSync(process.execPath, [path.join(ROOT, 'eval', 'activations.js'), target.id, '--prepare', 'speed', '--what', a.calibrationWhat, '--out-dir', dir],
    { encoding: 'utf8', env: { ...process.env, ONNX_OPT: onnxOptBin() }, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`activations.js ${target.id}: ${(r.stderr || '').trim().split('\n').pop()}`);
  fs.writeFileSync(stamp, JSON.stringify(want));
  return dir;
}

function optimize(target, config, pipeline, calibDir, a) {
  const dir = path.join(a.work, config, target.id);
  fs.mkdirSync(dir, { recursive: true });
  return target.members.map((m) => {
    if (a.floatMembers && a.floatMembers.has(m)) return path.join(modelCache(), `${m}.onnx`);
    const out = path.join(dir, `${m}.onnx`);
    const text = calibDir ? pipeline.replace(/@CALIBRATION@/g, JSON.stringify(path.join(calibDir, `${m}.calib`))) : pipeline;
    const t0 = Date.now();
    const r = spawnSync(onnxOptBin(), [path.join(modelCache(), `${m}.onnx`), '-p', text, '-o', out], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`onnx-opt ${m} -p '${text}': ${(r.stderr || '').trim().split('\n').pop()}`);
    console.error(`speed: ${target.id}/${config}: ${m} optimized in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return out;
  });
}

// One latency candidate: a whole-task run on the first evaluation item. Single-model tasks time
// session.run alone (input read once, outputs preallocated); the wake-word pipeline runs its
// three models as eval/run.js chains them.
async function latencyRun(task, sessions, set, item, inputsDir) {
  if (task === 'wakeword') return () => runTask(task, sessions, set, [item], inputsDir);
  const buf = fs.readFileSync(path.join(inputsDir, item.file));
  const x = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const sess = sessions[0];
  const feeds = { [sess.inputNames[0]]: new ort.Tensor('float32', x, item.shape) };
  const first = await sess.run(feeds);
  const fetches = {};
  for (const n of sess.outputNames) fetches[n] = new ort.Tensor(first[n].type, new first[n].data.constructor(first[n].data.length), first[n].dims);
  return () => sess.run(feeds, fetches);
}

function metricText(m) {
  if (!m) return '';
  const extra = m.summary ? `, ${m.summary}` : m.line_accuracy !== undefined ? `, lines ${m.line_accuracy}` : m.flips_vs_fp32 !== undefined ? `, flips ${m.flips_vs_fp32}` : '';
  return `${m.name} ${m.value}${extra}`;
}

async function benchTarget(target, a, sets, ctx) {
  const set = sets[target.task];
  if (!set) throw new Error(`inputs.json has no '${target.task}' set`);
  const items = a.limit > 0 ? set.items.slice(0, a.limit) : set.items;
  const inputsDir = path.join(modelCache(), 'inputs');
  const hasMatmul = target.members.some((m) => (ctx.byId.get(m).matmuls || 0) > 0);
  const variants = [{ name: 'fp32', files: target.members.map((m) => path.join(modelCache(), `${m}.onnx`)) }];
  const configs = Object.entries(a.pipelines).filter(([c]) => !MATMUL_ONLY.has(c) || hasMatmul);
  const calibDir = configs.some(([, p]) => p.includes('@CALIBRATION@')) ? calibrate(target, a) : null;
  for (const [config, pipeline] of configs) {
    try {
      variants.push({ name: config, pipeline, files: optimize(target, config, pipeline, calibDir, a) });
    } catch (e) {
      variants.push({ name: config, pipeline, error: e.message });
    }
  }
  for (const b of BASELINES[target.id] || []) {
    const files = b.members.map((m) => path.join(modelCache(), `${m}.onnx`));
    if (files.every((f) => fs.existsSync(f))) variants.push({ name: b.name, files, baseline: true });
    else variants.push({ name: b.name, error: `${files.join(', ')} missing (scripts/fetch-models.sh ${b.members.join(' ')})` });
  }
  const live = variants.filter((v) => !v.error);
  for (const v of live) v.sessions = await Promise.all(v.files.map((f) => createSession(f)));

  // Fidelity and task metric on the real kernels, against the fp32 outputs of this run.
  for (const v of live) v.outs = await runTask(target.task, v.sessions, set, items, inputsDir);
  const refs = live[0].outs;
  for (const v of live) {
    v.metric = taskMetric(target.task, set, items, v.outs, v === live[0] ? null : refs, ctx);
    const fid = new Fidelity();
    v.outs.forEach((o, i) => fid.add(refs[i].main, o.main));
    v.fidelity = fid.result();
    delete v.outs;
  }
  const runs = [];
  for (const v of live) runs.push({ run: await latencyRun(target.task, v.sessions, set, items[0], inputsDir) });
  const load = machine().load;
  // A round lasts at least 300 ms of the slowest candidate: fast models get many single runs.
  const r = await interleave(runs, { rounds: a.rounds, warmup: 2, minMs: 300 });
  live.forEach((v, i) => { v.latency_ms = r.medians[i] / 1e3; v.spread_ms = r.spread[i] / 1e3; v.ratio = r.medians[0] / r.medians[i]; v.paired = r.pairedRatios[i]; });
  for (const v of live) { for (const s of v.sessions) await s.release?.(); delete v.sessions; }
  return variants.map((v) => ({
    target: target.id, task: target.task, config: v.name, float_members: a.floatMembers ? target.members.filter((m) => a.floatMembers.has(m)) : [], pipeline: v.pipeline || null, error: v.error || null,
    bytes: v.files ? v.files.reduce((s, f) => s + fs.statSync(f).size, 0) : null,
    latency_ms: v.latency_ms !== undefined ? +v.latency_ms.toFixed(3) : null,
    spread_ms: v.spread_ms !== undefined ? +v.spread_ms.toFixed(3) : null,
    speedup: v.ratio !== undefined ? +v.ratio.toFixed(3) : null,
    speedup_paired: v.paired !== undefined ? +v.paired.toFixed(3) : null,
    metric: v.metric || null, fidelity: v.fidelity || null, items: items.length, load_before_timing: load,
  }));
}

function markdown(rows, meta) {
  const env = meta.threads === undefined ? '' : `${meta.threads} threads${meta.spinning ? '' : ', thread-pool spinning off'}; `;
  const lines = [`Command: \`${meta.command}\` (${env}${meta.date}; load at the start: ${meta.load.start.replace(/^.*load average/, 'load average')})`, '',
    '| target | config | MB | latency ms (median) | speed-up vs fp32 | paired | task metric (unseen inputs, ORT default level) | output SQNR dB |',
    '|---|---|---:|---:|---:|---:|---|---:|'];
  for (const r of rows) {
    if (r.error) { lines.push(`| ${r.target} | ${r.config} | | | | | error: ${r.error} | |`); continue; }
    lines.push(`| ${r.target} | ${r.config} | ${(r.bytes / 1e6).toFixed(2)} | ${r.latency_ms.toFixed(2)} ± ${r.spread_ms.toFixed(2)} | ${r.speedup.toFixed(2)}x | ${r.speedup_paired.toFixed(2)}x | ${metricText(r.metric)} | ${r.config === 'fp32' ? '-' : r.fidelity.sqnr_db} |`);
  }
  return `${lines.join('\n')}\n`;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  if (a.help) {
    console.log(fs.readFileSync(new URL(import.meta.url), 'utf8').split('\n').slice(1, 25).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
    return;
  }
  const models = readJson(path.join(ROOT, 'eval', 'models.json'));
  const sets = readJson(path.join(modelCache(), 'inputs', 'inputs.json')).sets;
  const byId = new Map(models.models.map((m) => [m.id, m]));
  const ctx = { byId };
  const keys = path.join(modelCache(), 'ocr-keys.txt');
  if (fs.existsSync(keys)) { ctx.keys = fs.readFileSync(keys, 'utf8').split('\n'); if (ctx.keys[ctx.keys.length - 1] === '') ctx.keys.pop(); }
  const start = machine();
  const rows = [];
  for (const id of a.targets) {
    const target = models.targets.find((t) => t.id === id);
    if (!target) throw new Error(`unknown target '${id}' (known: ${models.targets.map((t) => t.id).join(', ')})`);
    const got = await benchTarget(target, a, sets, ctx);
    rows.push(...got);
    process.stderr.write(markdown(got, { command: '', date: '', load: { start: start.load } }).split('\n').slice(4).join('\n'));
  }
  const meta = { command: `node bench/speed.mjs ${process.argv.slice(2).join(' ')}`.trim(), date: new Date().toISOString(),
    runtime: `onnxruntime-node ${ORT_VERSION}`, threads: THREADS, spinning: SPINNING, rounds: a.rounds, cpu: start.cpu, load: { start: start.load, end: machine().load }, onnx_opt: onnxOptBin() };
  const md = markdown(rows, meta);
  process.stdout.write(md);
  if (a.out) fs.writeFileSync(a.out, `${JSON.stringify({ ...meta, rows, markdown: md }, null, 1)}\n`);
}

main().catch((e) => { console.error(`speed: error: ${e.message.split('\n')[0]}`); process.exit(2); });

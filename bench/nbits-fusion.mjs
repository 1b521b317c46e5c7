#!/usr/bin/env node
// ONNX Runtime latency of fuse-integer-ops{ops=nbits} on a real model: the fp32 file, the same
// model after `upgrade-opset{target=21},quantize-weights{format=qdq,bits=4,block-size=32}`
// (blockwise DequantizeLinear + MatMul) and that QDQ file after `fuse-integer-ops{ops=nbits}`
// (MatMulNBits), measured in one run.
//
//   node bench/nbits-fusion.mjs [--model ocr-rec] [--runs N] [--level all|basic]
//   node bench/nbits-fusion.mjs --model ocr-cls --files fp32.onnx,qdq.onnx,qop.onnx [...]
//
// With --files the given models are timed instead (first = reference, second = baseline of the
// last: e.g. the QDQ file of quantize-activations and its fuse-integer-ops QOperator form),
// on the model set's first real input.
//
// The three models are interleaved (order rotating every round), 2 intra-op threads without
// spinning, median of N rounds (default 9, at least 7) after 2 warm-ups; the speed-up is the
// median over rounds of the per-round ratio QDQ time / fused time. Fidelity: SQNR of the fused
// and QDQ outputs against the fp32 ones, and of the fused against the QDQ ones, on the model's
// first real input (level basic; with --files at level all, the integer kernels users run).
// Needs build/driver/onnx-opt (or $ONNX_OPT), eval/node_modules and the cached models.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ort = createRequire(path.join(root, 'eval', 'package.json'))('onnxruntime-node');
const bin = process.env.ONNX_OPT || path.join(root, 'build', 'driver', 'onnx-opt');
const cache = process.env.ONNX_OPT_MODEL_CACHE || path.join(os.homedir(), '.cache', 'onnx-opt', 'models');

function die(msg) {
  console.error(`nbits-fusion: error: ${msg}`);
  process.exit(1);
}

const args = { model: 'ocr-rec', runs: 9, level: 'all', files: null };
for (let i = 2; i < process.argv.length; i++) {
  const k = process.argv[i];
  if (k === '--model') args.model = process.argv[++i];
  else if (k === '--runs') args.runs = Number(process.argv[++i]);
  else if (k === '--level') args.level = process.argv[++i];
  else if (k === '--files') args.files = process.argv[++i].split(',');
  else die(`unknown argument ${k}`);
}
if (!(args.runs >= 7)) die('--runs must be at least 7');

function onnxOpt(input, pipeline, output) {
  const r = spawnSync(bin, [input, '-p', pipeline, '-o', output, '--stats'], { encoding: 'utf8' });
  if (r.status !== 0) die(`onnx-opt -p '${pipeline}' failed: ${r.stderr.trim()}`);
  return r.stderr;
}

function session(file, level) {
  return ort.InferenceSession.create(file, {
    graphOptimizationLevel: level, intraOpNumThreads: 2, interOpNumThreads: 1, logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  });
}

// The model's first real input (eval/make-inputs.py sets), named by the session's first input.
function feeds(sess) {
  const dir = path.join(cache, 'inputs');
  const sets = JSON.parse(fs.readFileSync(path.join(dir, 'inputs.json'), 'utf8')).sets;
  const set = sets[args.model];
  if (!set) die(`no input set '${args.model}' in ${dir}/inputs.json`);
  const item = set.items[0];
  const bytes = fs.readFileSync(path.join(dir, item.file));
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  return { [sess.inputNames[0]]: new ort.Tensor('float32', data, item.shape) };
}

function sqnr(ref, got) {
  let worst = Infinity;
  for (const name of Object.keys(ref)) {
    const a = ref[name].data;
    const b = got[name].data;
    let sig = 0, err = 0;
    for (let i = 0; i < a.length; i++) {
      sig += Number(a[i]) ** 2;
      err += (Number(a[i]) - Number(b[i])) ** 2;
    }
    worst = Math.min(worst, err === 0 ? Infinity : 10 * Math.log10(sig / err));
  }
  return worst;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

let files, names, work = null, fusedCount = '?';
if (args.files) {
  if (args.files.length !== 3) die('--files takes three models: reference,baseline,fused');
  for (const f of args.files) if (!fs.existsSync(f)) die(`model not found: ${f}`);
  files = args.files;
  names = files.map((f) => path.basename(f));
} else {
  const original = path.join(cache, `${args.model}.onnx`);
  if (!fs.existsSync(original)) die(`model not found: ${original} (scripts/fetch-models.sh)`);
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'nbits-fusion-'));
  const qdq = path.join(work, 'qdq.onnx');
  const fused = path.join(work, 'fused.onnx');
  onnxOpt(original, 'upgrade-opset{target=21},quantize-weights{format=qdq,bits=4,block-size=32}', qdq);
  const stats = onnxOpt(qdq, 'fuse-integer-ops{ops=nbits}', fused);
  fusedCount = /(\d+) matmul-nbits/.exec(stats)?.[1] ?? '0';
  files = [original, qdq, fused];
  names = ['fp32', 'qdq int4 b32', 'fused MatMulNBits'];
}

// Weight-only fidelity at level basic; integer inference (--files) on the kernels users run.
const fidelityLevel = args.files ? 'all' : 'basic';
const basic = await Promise.all(files.map((f) => session(f, fidelityLevel)));
const input = feeds(basic[0]);
const outs = [];
for (const s of basic) outs.push(await s.run(input));

const sessions = await Promise.all(files.map((f) => session(f, args.level)));
for (let w = 0; w < 2; w++) for (const s of sessions) await s.run(input);
const times = files.map(() => []);
for (let r = 0; r < args.runs; r++) {
  for (let j = 0; j < sessions.length; j++) {
    const k = (j + r) % sessions.length;
    const start = process.hrtime.bigint();
    await sessions[k].run(input);
    times[k].push(Number(process.hrtime.bigint() - start) / 1e6);
  }
}
const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`model ${args.model}: ${args.files ? '' : `${fusedCount} MatMuls fused; `}ORT level ${args.level}, ` +
            `2 threads, fidelity at level ${fidelityLevel}, ` +
            `median of ${args.runs} interleaved rounds; load average ${load}`);
console.log('| file | bytes | ms (median) | SQNR vs fp32 dB | SQNR vs qdq dB |');
console.log('|---|---|---|---|---|');
for (let k = 0; k < files.length; k++) {
  const db = k === 0 ? '' : sqnr(outs[0], outs[k]).toFixed(1);
  const vsQdq = k === 2 ? sqnr(outs[1], outs[2]).toFixed(1) : '';  // fused vs its baseline
  console.log(`| ${names[k]} | ${fs.statSync(files[k]).size} | ${median(times[k]).toFixed(2)} | ${db} | ${vsQdq} |`);
}
const ratio = (a, b) => median(times[a].map((t, r) => t / times[b][r]));
console.log(`speed-up ${names[2]} vs ${names[1]}: ${ratio(1, 2).toFixed(3)}x; ${names[2]} vs ${names[0]}: ` +
            `${ratio(0, 2).toFixed(3)}x; ${names[1]} vs ${names[0]}: ${ratio(0, 1).toFixed(3)}x`);
// The fastest run of each: the least disturbed by other processes on a loaded machine.
const best = times.map((t) => Math.min(...t));
console.log(`fastest runs (ms): ${best.map((b) => b.toFixed(2)).join(' / ')}; ` +
            `${names[2]} vs ${names[1]}: ${(best[1] / best[2]).toFixed(3)}x`);
if (work) fs.rmSync(work, { recursive: true, force: true });

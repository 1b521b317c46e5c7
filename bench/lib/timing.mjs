// Interleaved latency measurement in onnxruntime-node (eval/node_modules), shared by
// bench/op-latency.mjs and bench/speed.mjs: every round times each candidate once, in an order
// that alternates from round to round, so a change of machine load hits all candidates alike;
// the figure is the median over rounds. A round of a fast candidate runs it `inner` times
// (chosen so one round takes at least minMs) and reports the time per run.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const evalRequire = createRequire(path.join(ROOT, 'eval', 'package.json'));
export const ort = evalRequire('onnxruntime-node');
export const ORT_VERSION = evalRequire('onnxruntime-node/package.json').version;
// Intra-op threads of every benchmark session: 2, as the targets are stated; ONNX_OPT_BENCH_THREADS
// overrides it (1 thread times far tighter on a VM whose second vCPU the host preempts).
export const THREADS = Number(process.env.ONNX_OPT_BENCH_THREADS || 2);
if (!(Number.isInteger(THREADS) && THREADS >= 1)) throw new Error(`ONNX_OPT_BENCH_THREADS must be a positive integer, not '${process.env.ONNX_OPT_BENCH_THREADS}'`);

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

// ONNX_OPT_BENCH_SPINNING=0 turns off the spinning of ORT's thread pools (on by default). A pool
// thread spinning on a vCPU the host also runs something else on takes time from the thread doing
// the work: on the 2-vCPU VM of docs/results.md's session 10 figures, ocr-rec fp32 at 2 threads
// ran 41.1 ms with its 10-90% range 23.8-55.6 ms spinning, 31.5 ms (29.4-33.8) without.
const spinning = process.env.ONNX_OPT_BENCH_SPINNING ?? '1';
if (!['0', '1'].includes(spinning)) throw new Error(`ONNX_OPT_BENCH_SPINNING must be 0 or 1, not '${spinning}'`);
export const SPINNING = spinning === '1';
const NO_SPINNING = { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } };

// A session at ORT's default optimization level (all) with the benchmark's thread count and
// spinning; `options` adds to or overrides them (its `extra` config entries merged with ours).
export function createSession(file, options = {}) {
  const extra = { ...(SPINNING ? {} : NO_SPINNING), ...(options.extra || {}) };
  return ort.InferenceSession.create(file, {
    intraOpNumThreads: THREADS, interOpNumThreads: 1, executionMode: 'sequential', logSeverityLevel: 3, ...options, extra,
  });
}

// Deterministic inputs: floats in [-1, 1), uint8 over the whole range.
export function makeFeeds(list) {
  const feeds = {};
  let s = 12345;
  const next = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s; };
  for (const { name, type, dims } of list) {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = type === 'uint8' ? new Uint8Array(n) : new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = type === 'uint8' ? next() >>> 24 : (next() / 2 ** 31) - 1;
    feeds[name] = new ort.Tensor(type, data, dims);
  }
  return feeds;
}

// A run() of `session` on `feeds` into preallocated output tensors (shaped by one first run):
// what an application that reuses its buffers pays, without the binding allocating and copying
// every output on every call (measured: half the time of a 1x96x152x200 Add).
export async function runner(session, feeds) {
  const first = await session.run(feeds);
  const fetches = {};
  for (const name of session.outputNames) {
    const o = first[name];
    fetches[name] = new ort.Tensor(o.type, new o.data.constructor(o.data.length), o.dims);
  }
  return () => session.run(feeds, fetches);
}

// candidates: [{ run: async () => {...} }]. Interleaves single runs: each round makes `inner`
// passes over the candidates (order reversed every other pass), one run each, so a burst of
// load from other processes lands on all candidates alike; `inner` is chosen so a round of the
// slowest candidate takes at least minMs. The figure is the median over all single runs
// (rounds x inner of them), in microseconds; `spread` is half the interquartile range.
export async function interleave(candidates, { rounds = 7, minMs = 0, warmup = 2 } = {}) {
  let slowest = 0;
  for (const c of candidates) {
    for (let i = 0; i < warmup; i++) await c.run();
    const s = process.hrtime.bigint();
    await c.run();
    slowest = Math.max(slowest, Number(process.hrtime.bigint() - s) / 1e6);
  }
  const inner = minMs > 0 ? Math.max(1, Math.min(200, Math.ceil(minMs / Math.max(slowest, 1e-3)))) : 1;
  const samples = candidates.map(() => []);
  let pass = 0;
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < inner; k++, pass++) {
      const order = candidates.map((_, i) => i);
      if (pass % 2) order.reverse();
      for (const i of order) {
        const s = process.hrtime.bigint();
        await candidates[i].run();
        samples[i].push(Number(process.hrtime.bigint() - s) / 1e3);
      }
    }
  }
  const quantile = (xs, q) => { const t = [...xs].sort((a, b) => a - b); return t[Math.min(t.length - 1, Math.floor(q * t.length))]; };
  const pairedRatios = samples.map((xs) => pairedRatio(samples[0], xs));
  return {
    medians: samples.map(median),
    pairedRatios,
    spread: samples.map((xs) => (quantile(xs, 0.75) - quantile(xs, 0.25)) / 2),
    samples,
    inner,
  };
}

// The median over passes of base[p] / times[p], two runs made back to back: it drops load that
// changes from pass to pass, which the ratio of the two medians keeps.
export function pairedRatio(base, times) {
  if (base.length !== times.length || base.length === 0) throw new Error('pairedRatio: needs two equally long, non-empty series');
  return median(times.map((t, p) => base[p] / t));
}

export function machine() {
  const cpu = (os.cpus()[0] || {}).model || 'unknown';
  let load = '';
  try { load = execSync('uptime', { encoding: 'utf8' }).trim(); } catch { load = os.loadavg().join(' '); }
  return { cpu, load };
}

export function onnxOptBin() {
  return process.env.ONNX_OPT || path.join(ROOT, 'build', 'driver', 'onnx-opt');
}

export function modelCache() {
  return process.env.ONNX_OPT_MODEL_CACHE || path.join(os.homedir(), '.cache', 'onnx-opt', 'models');
}

export function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

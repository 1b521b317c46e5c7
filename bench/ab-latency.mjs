#!/usr/bin/env node
// Two ONNX files timed against each other on one raw float32 input: ORT default level, the
// benchmark sessions of bench/lib/timing.mjs (2 intra-op threads; ONNX_OPT_BENCH_THREADS and
// ONNX_OPT_BENCH_SPINNING=0 change them), 3 warm-up runs each, then N rounds of one run of each,
// the order alternating; prints each median with its 10-90% range and the ratio A/B (> 1: B
// faster). For two candidates alone, where bench/speed.mjs interleaves all its configs.
//
//   node bench/ab-latency.mjs A.onnx B.onnx INPUT.f32 1x3x608x800 [N (default 41)]
import fs from 'node:fs';
import { ort, createSession, THREADS, SPINNING } from './lib/timing.mjs';

const [a, b, input, shape, n = '41'] = process.argv.slice(2);
if (!shape) {
  console.error('usage: node bench/ab-latency.mjs A.onnx B.onnx INPUT.f32 1x3x608x800 [N]');
  process.exit(2);
}
const dims = shape.split('x').map(Number);
const buf = fs.readFileSync(input);
const x = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
const s = [await createSession(a), await createSession(b)];
const feeds = { [s[0].inputNames[0]]: new ort.Tensor('float32', x, dims) };
for (const t of s) for (let i = 0; i < 3; i++) await t.run(feeds);
const T = [[], []];
for (let i = 0; i < Number(n); i++) for (const k of (i % 2 ? [1, 0] : [0, 1])) { const t0 = process.hrtime.bigint(); await s[k].run(feeds); T[k].push(Number(process.hrtime.bigint() - t0) / 1e6); }
const med = (v) => { const w = [...v].sort((p, q) => p - q); return w[w.length >> 1]; };
const q = (v, f) => { const w = [...v].sort((p, q) => p - q); return w[Math.floor(f * (w.length - 1))]; };
console.log(`${THREADS} threads${SPINNING ? '' : ', spinning off'}: A ${med(T[0]).toFixed(2)} [${q(T[0],0.1).toFixed(1)}-${q(T[0],0.9).toFixed(1)}]  B ${med(T[1]).toFixed(2)} [${q(T[1],0.1).toFixed(1)}-${q(T[1],0.9).toFixed(1)}]  A/B ${(med(T[0]) / med(T[1])).toFixed(3)}`);

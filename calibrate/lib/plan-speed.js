// --what plan-speed: the whole-graph check behind quantize-activations' per-layer decisions.
// The latency table those decisions read times each op alone; in a real graph ONNX Runtime also
// changes layouts around its integer convolutions and fuses activations into float ones, so a
// plan of layers that each look faster can run slower as a whole (PP-OCRv4's direction
// classifier: 0.51x). This runs optimize-speed{calibration=FILE} on the measured graph, times
// the result against that graph on ORT's default level (intra-op threads --speed-threads, default
// 2 as the latency table; thread pools spinning unless --speed-spinning off, which is the steadier
// clock on a VM whose host preempts its vCPUs), interleaved, median of --speed-rounds rounds, and
// records the plan's integer nodes with the speed-up as "plan_speed" in the .calib index.
// quantize-activations keeps the whole plan float when it arrives at exactly that plan and the
// measured speed-up is below 1.
'use strict';
const fs = require('fs');
const path = require('path');
const { quoteOption } = require('./probe.js');

const ROUND_MS = 50;  // each round repeats runs until this long, so small models time stably

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// Median milliseconds of single runs of each session on `feeds` (cycled over): in each of
// `rounds` rounds, as many passes as make the round last ROUND_MS, each pass one run of every
// session, the order alternating, so neither runs on caches the other left warm (the method of
// bench/speed.mjs, whose figures the results quote).
async function interleavedMs(sessions, feeds, rounds) {
  const once = async (s, i) => { await s.run(feeds[i % feeds.length]); };
  let slowest = 0;
  for (const s of sessions) {
    for (let i = 0; i < 2; i++) await once(s, i);  // warm-up
    const t = process.hrtime.bigint();
    await once(s, 0);
    slowest = Math.max(slowest, Number(process.hrtime.bigint() - t) / 1e6);
  }
  const inner = Math.max(1, Math.min(100, Math.ceil(ROUND_MS / Math.max(slowest, 1e-3))));
  const samples = sessions.map(() => []);
  for (let pass = 0; pass < rounds * inner; pass++) {
    const order = sessions.map((_, i) => i);
    if (pass % 2) order.reverse();
    for (const k of order) {
      const t = process.hrtime.bigint();
      await once(sessions[k], pass);
      samples[k].push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }
  return samples.map(median);
}

// The onnx-opt-plan-speed-1 document of `model` (the graph the file measured) against `calib`.
async function measurePlanSpeed(ort, { runOnnxOpt, model, calib, samples, rounds, threads = 2, spinning = true, scratch }) {
  const reportFile = path.join(scratch, 'plan.json');
  const planned = path.join(scratch, 'plan.onnx');
  const pipeline = `optimize-speed{calibration=${quoteOption(calib)},report=${quoteOption(reportFile)}}`;
  runOnnxOpt(model, pipeline, planned);
  const integer = JSON.parse(fs.readFileSync(reportFile, 'utf8')).nodes
    .filter((n) => n.decision === 'integer').map((n) => n.name).sort();
  const doc = { format: 'onnx-opt-plan-speed-1', pipeline: 'optimize-speed{calibration=FILE}', threads, spinning, rounds, samples: samples.length, integer_nodes: integer };
  if (integer.length === 0) return { ...doc, fp32_ms: null, integer_ms: null, speedup: null };
  const options = { logSeverityLevel: 3, intraOpNumThreads: threads, interOpNumThreads: 1 };
  if (!spinning) options.extra = { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } };
  const sessions = [await ort.InferenceSession.create(model, options), await ort.InferenceSession.create(planned, options)];
  try {
    const [fp32, int8] = await interleavedMs(sessions, samples, rounds);
    return { ...doc, fp32_ms: +fp32.toFixed(4), integer_ms: +int8.toFixed(4), speedup: +(fp32 / int8).toFixed(4) };
  } finally {
    for (const s of sessions) await s.release?.();
  }
}

module.exports = { measurePlanSpeed };

#!/usr/bin/env node
// Fidelity and latency of a quantized model against its fp32 original on the harness's inputs
// (what docs/quantization.md's quantize-activations figures come from):
//
//   node bench/qdq-check.js npy SET TASK OUTDIR      # SET inputs|calib, TASK ocr-det|ocr-rec|ocr-cls:
//                                                   # the cached .f32 samples as .npy (calibration)
//   node bench/qdq-check.js check TASK REF.onnx Q.onnx [--set inputs] [--max N] [--runs N] [--threads T]
//
// check: ORT default level (all: the real int8 kernels); per sample the SNR of every output
// against REF and the agreement of the argmax along the last axis; latency: REF and Q
// interleaved on the first sample, median of --runs (default 9), ratio in the same run.
// Samples come from ${ONNX_OPT_MODEL_CACHE:-~/.cache/onnx-opt/models}/SET/inputs.json.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, '../eval/node_modules/onnxruntime-node'));
const { writeNpy } = require(path.join(__dirname, '../calibrate/lib/npy.js'));

const cache = process.env.ONNX_OPT_MODEL_CACHE || path.join(process.env.HOME, '.cache/onnx-opt/models');
const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };

function samples(set, task) {
  const dir = path.join(cache, set);
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'inputs.json')));
  if (!meta.sets[task]) throw new Error(`no set '${task}' in ${dir}/inputs.json`);
  return meta.sets[task].items.map((it) => {
    const b = fs.readFileSync(path.join(dir, it.file));
    return { file: it.file, dims: it.shape, data: new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)) };
  });
}

async function check(task, refPath, qPath) {
  const so = { graphOptimizationLevel: 'all', intraOpNumThreads: Number(opt('--threads', 2)), interOpNumThreads: 1, logSeverityLevel: 3 };
  const ref = await ort.InferenceSession.create(refPath, so);
  const q = await ort.InferenceSession.create(qPath, so);
  const items = samples(opt('--set', 'inputs'), task).slice(0, Number(opt('--max', 1e9)));
  const feed = (s) => ({ [ref.inputNames[0]]: new ort.Tensor('float32', s.data, s.dims) });
  const snrs = [];
  let agree = 0, total = 0;
  for (const s of items) {
    const a = await ref.run(feed(s)), b = await q.run(feed(s));
    for (const name of ref.outputNames) {
      const x = a[name].data, y = b[name].data, last = a[name].dims[a[name].dims.length - 1];
      let sig = 0, noise = 0;
      for (let i = 0; i < x.length; i++) { sig += x[i] * x[i]; noise += (x[i] - y[i]) ** 2; }
      snrs.push(10 * Math.log10(sig / Math.max(noise, 1e-30)));
      for (let r = 0; r < x.length / last; r++) {
        let ia = 0, ib = 0;
        for (let c = 1; c < last; c++) {
          if (x[r * last + c] > x[r * last + ia]) ia = c;
          if (y[r * last + c] > y[r * last + ib]) ib = c;
        }
        agree += ia === ib; total++;
      }
    }
  }
  snrs.sort((u, v) => u - v);
  const med = (v) => v[Math.floor(v.length / 2)];
  console.log(`fidelity: ${items.length} samples, output SNR min ${snrs[0].toFixed(1)} median ${med(snrs).toFixed(1)} dB, argmax agreement ${agree}/${total}`);
  const runs = Number(opt('--runs', 9)), f = feed(items[0]), tr = [], tq = [];
  for (let i = 0; i < 2; i++) { await ref.run(f); await q.run(f); }
  for (let i = 0; i < runs; i++) {
    let t = process.hrtime.bigint(); await ref.run(f); tr.push(Number(process.hrtime.bigint() - t) / 1e6);
    t = process.hrtime.bigint(); await q.run(f); tq.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  tr.sort((u, v) => u - v); tq.sort((u, v) => u - v);
  console.log(`latency: fp32 ${med(tr).toFixed(2)} ms, quantized ${med(tq).toFixed(2)} ms, ratio ${(med(tr) / med(tq)).toFixed(2)}x (median of ${runs}, interleaved, ${so.intraOpNumThreads} threads)`);
}

(async () => {
  if (args[0] === 'npy' && args.length >= 4) {
    fs.mkdirSync(args[3], { recursive: true });
    const items = samples(args[1], args[2]);
    for (const s of items) writeNpy(path.join(args[3], s.file.replace(/\.f32$/, '.npy')), { type: 'float32', dims: s.dims, data: s.data });
    console.log(`${items.length} samples in ${args[3]}`);
  } else if (args[0] === 'check' && args.length >= 4) {
    await check(args[1], args[2], args[3]);
  } else {
    console.error('usage: qdq-check.js npy SET TASK OUTDIR | check TASK REF.onnx Q.onnx [--set S] [--max N] [--runs N] [--threads T]');
    process.exit(2);
  }
})().catch((e) => { console.error(`qdq-check: error: ${String(e.message).split('\n')[0]}`); process.exit(2); });

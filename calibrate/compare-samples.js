#!/usr/bin/env node
// Output SQNR of a quantized model against its float original on samples (e.g. ones the
// calibration never saw): 10 log10(sum y^2 / sum (y - y_q)^2) per float output, over all samples.
//
//   node calibrate/compare-samples.js FLOAT.onnx QUANTIZED.onnx --samples DIR
//   node calibrate/compare-samples.js FLOAT.onnx QUANTIZED.onnx --wav DIR [--wav-scale S]
//
// Samples as onnx-opt-calibrate takes them (.npz/.npy, or 16 kHz wav files). ONNX Runtime at
// level basic.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { listSamples, loadFeeds } = require('./calibrate.js');
const { convertMedia } = require('./lib/media.js');

async function main(argv) {
  const [ref, test, ...rest] = argv;
  const opt = (k, d) => { const i = rest.indexOf(k); return i >= 0 ? rest[i + 1] : d; };
  if (!ref || !test || (!opt('--samples') && !opt('--wav'))) throw new Error('usage: compare-samples.js FLOAT.onnx QUANTIZED.onnx --samples DIR | --wav DIR');
  const ort = require('onnxruntime-node');
  const create = (f) => ort.InferenceSession.create(f, { graphOptimizationLevel: 'basic', logSeverityLevel: 3 });
  const [a, b] = [await create(ref), await create(test)];
  const inputs = a.inputNames.map((name, i) => {
    const m = a.inputMetadata[i];
    const type = { float32: 'float', float64: 'double' }[m.type] || m.type;
    return { name, type, shape: (m.shape || []).map(String) };
  });
  let dir = opt('--samples');
  let scratch = null;
  if (!dir) {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'compare-samples-'));
    dir = scratch;
    convertMedia(opt('--wav'), dir, inputs[0].name, 'wav', { wavScale: Number(opt('--wav-scale', 1)) });
  }
  const sig = {}, err = {};
  const files = listSamples(dir, { seed: null, maxSamples: 0 });
  for (const f of files) {
    const feeds = loadFeeds(ort, f, inputs);
    const [ya, yb] = [await a.run(feeds), await b.run(feeds)];
    for (const k of a.outputNames) {
      if (ya[k].type !== 'float32') continue;
      for (let i = 0; i < ya[k].data.length; i++) {
        const d = ya[k].data[i] - yb[k].data[i];
        sig[k] = (sig[k] || 0) + ya[k].data[i] ** 2;
        err[k] = (err[k] || 0) + d * d;
      }
    }
  }
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  for (const k of Object.keys(sig)) console.log(`${k}: SQNR ${(10 * Math.log10(sig[k] / Math.max(err[k], 1e-30))).toFixed(2)} dB over ${files.length} samples`);
}

main(process.argv.slice(2)).catch((e) => { console.error(`compare-samples: error: ${e.message.split('\n')[0]}`); process.exitCode = 2; });

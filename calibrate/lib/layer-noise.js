// --what layer-noise: per node that quantize-activations would make integer, the relative output
// noise with only that node quantized (quantize-activations{nodes=NODE} with the file's own
// ranges), run on ONNX Runtime's real integer kernels (default optimization level) on the
// first --noise-samples samples. quantize-activations{min-output-sqnr=} spends a noise budget on
// these figures: the sum over the layers kept integer estimates the model's output noise to first
// order. The rows go into the .calib index as "layer_noise" (docs/calibration.md), added after
// the helper wrote the file: the data section is copied unchanged (its offsets are relative to it).
'use strict';
const fs = require('fs');
const path = require('path');
const { quoteOption, relativeNoise } = require('./probe.js');

// Floats of the graph outputs of one run.
function floatOutputs(res, names) {
  const out = {};
  for (const n of names) {
    const t = res[n];
    if (t && t.type === 'float32') out[n] = Float32Array.from(t.data);
  }
  return out;
}

// The onnx-opt-layer-noise-1 document of `model` (the graph the file measured) against `calib`.
// `runOnnxOpt(input, pipeline, output)` throws with onnx-opt's message on failure.
async function measureLayerNoise(ort, { runOnnxOpt, model, calib, samples, refs, outputNames, scratch, progress }) {
  const base = `quantize-activations{calibration=${quoteOption(calib)},latency-table=none`;
  const reportFile = path.join(scratch, 'layers.json');
  runOnnxOpt(model, `${base},report=${quoteOption(reportFile)}}`, path.join(scratch, 'layers.onnx'));
  const nodes = JSON.parse(fs.readFileSync(reportFile, 'utf8')).nodes.filter((n) => n.decision === 'integer');
  const tick = progress('layer noise', nodes.length);
  const layers = [];
  const probeFile = path.join(scratch, 'layer.onnx');
  for (const [k, n] of nodes.entries()) {
    runOnnxOpt(model, `${base},nodes=${quoteOption(n.name)}}`, probeFile);
    const sess = await ort.InferenceSession.create(probeFile, { logSeverityLevel: 3 });
    const outs = [];
    for (const feeds of samples) outs.push(floatOutputs(await sess.run(feeds, outputNames), outputNames));
    await sess.release?.();
    layers.push({ node: n.name, op: n.op, output_noise: +relativeNoise(refs, outs).toPrecision(6) });
    tick(k + 1);
  }
  layers.sort((x, y) => y.output_noise - x.output_noise);
  return {
    format: 'onnx-opt-layer-noise-1',
    measure: `output_noise = sum over float outputs of ||y - y_fp32||^2 / ||y_fp32||^2 on ${samples.length} samples, this node alone quantized by quantize-activations with the file's ranges; ONNX Runtime default level (integer kernels)`,
    samples: samples.length,
    layers,
  };
}

// Adds `"key": value` to the JSON index of the .calib file `file` (through a temporary file
// renamed into place); the index keeps its other bytes, the data section is copied as it is.
function addToIndex(file, key, value) {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(16);
    if (fs.readSync(fd, head, 0, 16, 0) !== 16 || head.toString('latin1', 0, 8) !== 'OOCALIB1') throw new Error(`${file}: not a .calib file`);
    const length = Number(head.readBigUInt64LE(8));
    const index = Buffer.alloc(length);
    fs.readSync(fd, index, 0, length, 16);
    const text = index.toString('utf8').trimEnd();
    if (!text.endsWith('}')) throw new Error(`${file}: the index is not a JSON object`);
    let added = `${text.slice(0, -1)},${JSON.stringify(key)}:${JSON.stringify(value)}}`;
    added += ' '.repeat((8 - (Buffer.byteLength(added) % 8)) % 8);
    const tmp = `${file}.tmp-${process.pid}`;
    const out = fs.openSync(tmp, 'w');
    try {
      const newHead = Buffer.alloc(16);
      newHead.write('OOCALIB1', 0, 'latin1');
      newHead.writeBigUInt64LE(BigInt(Buffer.byteLength(added)), 8);
      fs.writeSync(out, newHead);
      fs.writeSync(out, Buffer.from(added, 'utf8'));
      const chunk = Buffer.alloc(1 << 20);
      for (let at = 16 + length; ;) {
        const n = fs.readSync(fd, chunk, 0, chunk.length, at);
        if (n === 0) break;
        fs.writeSync(out, chunk, 0, n);
        at += n;
      }
    } finally {
      fs.closeSync(out);
    }
    fs.renameSync(tmp, file);
  } finally {
    fs.closeSync(fd);
  }
}

module.exports = { floatOutputs, measureLayerNoise, addToIndex };

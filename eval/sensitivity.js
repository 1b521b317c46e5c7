#!/usr/bin/env node
// Measure how much each weight's quantization alone disturbs a target's outputs, for
// `quantize-weights{...,target-size=..,sensitivity=FILE}` (mixed precision ranked by output noise).
//
//   node eval/sensitivity.js TARGET [--probe PIPELINE] [--inputs DIR] [--limit N] [--out-dir DIR]
//
// For each model of TARGET (eval/models.json; models below opset 21 are upgraded first, as the
// evaluation does) and each weight the probe quantizes, the weight alone is quantized with the
// probe (default `quantize-weights{bits=4,block-size=32,symmetric=false}`, restricted with
// `weights=`) and the task runs in ONNX Runtime (level basic, the other models fp32) on the
// calibration inputs (default <cache>/calib, from `make-inputs.py --calibration`: other text,
// faces, phrases and images than the evaluation set). Writes <out-dir>/<model>.json:
//   {"format": "onnx-opt-sensitivity-1", "probe": ..., "model": ..., "weights": [
//     {"graph", "weight", "output_noise": sum over outputs of ||y - y_fp32||^2 / ||y_fp32||^2,
//      "weight_error": relative Frobenius error of the weight in the probe}]}
// Default out-dir: <cache>/work/sensitivity/<target>. ONNX_OPT overrides the onnx-opt binary.
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { runTask, session, cacheDir } = require('./run.js');
const { dieFor, parseFlags, usageUnlessOneTarget, runOnnxOpt, loadCalibrationTarget } = require('./tool.js');

const DEFAULT_PROBE = 'quantize-weights{bits=4,block-size=32,symmetric=false}';

const die = dieFor('sensitivity');

// The probe pipeline helpers are onnx-opt-calibrate's (calibrate/lib/probe.js).
const probeLib = require('../calibrate/lib/probe.js');
const { quoteOption, regexExact } = probeLib;
// The probe pipeline with extra options added to its last pass (quantize-weights).
function withOptions(probe, extra) {
  try { return probeLib.withOptions(probe, extra); } catch (e) { return die(`--probe ${e.message}`); }
}

const onnxOpt = (input, pipeline, output) => runOnnxOpt(input, pipeline, output, die);

// Relative noise energy of `outs` against `refs`, summed over the output kinds (main, embeddings).
function outputNoise(refs, outs) {
  const sig = {}, err = {};
  outs.forEach((o, i) => {
    for (const k of ['main', 'embeddings']) {
      if (!o[k] || !refs[i][k]) continue;
      const r = refs[i][k], q = o[k];
      let s = 0, e = 0;
      for (let j = 0; j < r.length; j++) { const d = r[j] - q[j]; s += r[j] * r[j]; e += d * d; }
      sig[k] = (sig[k] || 0) + s; err[k] = (err[k] || 0) + e;
    }
  });
  let noise = 0;
  for (const k of Object.keys(sig)) noise += sig[k] > 0 ? err[k] / sig[k] : 0;
  return noise;
}

async function main() {
  const a = parseFlags(process.argv.slice(2), {
    '--probe': ['probe', String], '--inputs': ['inputs', String], '--limit': ['limit', Number],
    '--out-dir': ['outDir', String],
  }, { probe: DEFAULT_PROBE, limit: 0 }, die);
  usageUnlessOneTarget(a, __filename, 16);
  const { target, set, items, inputsDir, outDir, scratch, modelFile } =
    loadCalibrationTarget(a.pos[0], a.inputs, a.limit, a.outDir, 'sensitivity', die);
  const cache = cacheDir();
  // The models as the evaluation quantizes them (upgraded when below the upgrade opset).
  const files = target.members.map(modelFile);
  const run = async (fileList) => {
    const sessions = [];
    for (const f of fileList) sessions.push(await session(f, 'basic'));
    const outs = await runTask(target.task, sessions, set, items, inputsDir);
    for (const s of sessions) await s.release?.();
    return outs;
  };
  const t0 = Date.now();
  const refs = await run(files);

  for (let mi = 0; mi < files.length; mi++) {
    const member = target.members[mi];
    const reportAll = path.join(scratch, `${member}.report.json`);
    onnxOpt(files[mi], withOptions(a.probe, `report=${quoteOption(reportAll)}`), path.join(scratch, `${member}.all.onnx`));
    const rows = JSON.parse(fs.readFileSync(reportAll, 'utf8')).weights.filter((r) => r.format !== 'float');
    const names = new Map();
    for (const r of rows) names.set(r.weight, (names.get(r.weight) || 0) + 1);
    const weights = [];
    for (const [k, r] of rows.entries()) {
      // weights= matches by name in every graph; a name used in two graphs is probed together.
      const probeFile = path.join(scratch, `${member}.probe.onnx`);
      const reportOne = path.join(scratch, `${member}.probe.json`);
      onnxOpt(files[mi], withOptions(a.probe, `weights=${quoteOption(regexExact(r.weight))},report=${quoteOption(reportOne)}`), probeFile);
      const one = JSON.parse(fs.readFileSync(reportOne, 'utf8')).weights.find((x) => x.weight === r.weight && x.graph === r.graph);
      if (!one) die(`probe of weight '${r.weight}' quantized nothing`);
      const outs = await run(files.map((f, j) => (j === mi ? probeFile : f)));
      const noise = outputNoise(refs, outs);
      weights.push({ graph: r.graph, weight: r.weight, output_noise: +noise.toPrecision(6), weight_error: +one.relative_error.toPrecision(6), bytes_before: one.bytes_before });
      const progress = `sensitivity: ${member} ${k + 1}/${rows.length} weights (${((Date.now() - t0) / 1000).toFixed(0)} s)`;
      if (process.stderr.isTTY) process.stderr.write(`\r${progress}`);
      else if ((k + 1) % 20 === 0) process.stderr.write(`${progress}\n`);
    }
    if (process.stderr.isTTY) process.stderr.write('\n');
    const doc = {
      format: 'onnx-opt-sensitivity-1',
      probe: a.probe,
      model: member,
      source_sha256: crypto.createHash('sha256').update(fs.readFileSync(path.join(cache, `${member}.onnx`))).digest('hex'),
      inputs: { dir: inputsDir, items: items.map((it) => it.file) },
      measure: 'output_noise = sum over outputs of ||y - y_fp32||^2 / ||y_fp32||^2, this weight alone quantized by the probe; ONNX Runtime level basic',
      weights: weights.sort((x, y) => y.output_noise - x.output_noise),
    };
    const out = path.join(outDir, `${member}.json`);
    fs.writeFileSync(out, JSON.stringify(doc, null, 1) + '\n');
    const total = weights.reduce((s, w) => s + w.output_noise, 0);
    console.log(`sensitivity: ${out}: ${weights.length} weights, sum of output noise ${total.toPrecision(3)}; top: ${weights.slice(0, 3).map((w) => `${w.weight} ${w.output_noise.toPrecision(3)}`).join(', ')}`);
  }
  fs.rmSync(scratch, { recursive: true, force: true });
}

if (require.main === module) main().catch((e) => die((e && e.message ? e.message : String(e)).split('\n')[0]));

module.exports = { quoteOption, regexExact, withOptions, outputNoise };

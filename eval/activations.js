#!/usr/bin/env node
// The calibration step of the evaluation: a .calib file per model of a target, made by
// onnx-opt-calibrate (calibrate/, the tool users run on their own models) from the inputs
// the target's task gives each model on the calibration set, for
// `quantize-weights{...,calibration=FILE}` (data-aware rounding such as GPTQ).
//
//   node eval/activations.js TARGET [--inputs DIR] [--limit N] [--max-runs N] [--out-dir DIR]
//                            [--prepare PIPELINE|speed] [--what STATISTICS]
//
// The target's task runs in ONNX Runtime on the calibration inputs (default <cache>/calib, from
// `make-inputs.py --calibration`); every session run of a model is one sample, whose feeds are
// written as <run>.npz into a temporary folder. Multi-model targets run as a chain (wake word:
// mel -> embedding -> head), so each model gets the inputs the evaluation gives it. Then
// `onnx-opt-calibrate <model> --samples <that folder> -o <out-dir>/<model>.calib`
// measures the Hessians (and ranges) on the model as fetched: upgrade-opset, which the
// evaluation runs first, keeps the names and weight bytes the file is checked against. The
// samples are removed afterwards; <out-dir>/<model>.calib.json records what the file was made
// from (model hash, items, runs). --limit N: first N calibration items; --max-runs N: at most N
// runs per model (evenly spaced; the wake-word head runs once per 16-embedding window).
// Default out-dir: <cache>/work/calibration/<target>. --prepare and --what go to
// onnx-opt-calibrate (bench/speed.mjs: --prepare speed --what ranges, for optimize-speed).
// ONNX_OPT overrides the onnx-opt binary.
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { spawnSync } = require('child_process');
const { dieFor, parseFlags, usageUnlessOneTarget, loadCalibrationTarget } = require('./tool.js');

const die = dieFor('activations');
const TOOL = path.join(__dirname, '..', 'calibrate', 'calibrate.js');

// Evenly spaced subset of [0, n) of at most `max` indices (all when max <= 0).
function spacedRuns(n, max) {
  if (!(max > 0) || n <= max) return new Set(Array.from({ length: n }, (_, i) => i));
  const s = new Set();
  for (let i = 0; i < max; i++) s.add(Math.floor((i * n) / max + n / (2 * max)));
  return s;
}

// A session stand-in for run.js's task runners: runs the model, passes each run's feeds to
// `record` and returns the outputs asked for.
function recordingSession(sess, record) {
  return {
    inputNames: sess.inputNames,
    outputNames: sess.outputNames,
    inputMetadata: sess.inputMetadata,
    outputMetadata: sess.outputMetadata,
    async run(feeds, fetches) {
      record(feeds);
      return fetches ? sess.run(feeds, fetches) : sess.run(feeds);
    },
    release: () => sess.release?.(),
  };
}

// The feeds of one run as .npz arrays.
function feedArrays(feeds) {
  const out = {};
  for (const [k, t] of Object.entries(feeds)) out[k] = { type: t.type, dims: t.dims.map(Number), data: t.data };
  return out;
}

async function main() {
  const a = parseFlags(process.argv.slice(2), {
    '--inputs': ['inputs', String], '--limit': ['limit', Number], '--max-runs': ['maxRuns', Number],
    '--out-dir': ['outDir', String], '--prepare': ['prepare', String], '--what': ['what', String],
  }, { limit: 0, maxRuns: 0 }, die);
  usageUnlessOneTarget(a, __filename, 22);
  const toolFlags = [...(a.prepare ? ['--prepare', a.prepare] : []), ...(a.what ? ['--what', a.what] : [])];
  const { runTask, session, cacheDir } = require('./run.js');
  const { writeNpz } = require('../calibrate/lib/npy.js');
  const { target, set, items, inputsDir, outDir, scratch } =
    loadCalibrationTarget(a.pos[0], a.inputs, a.limit, a.outDir, 'calibration', die);
  const cache = cacheDir();
  const t0 = Date.now();
  const members = [];
  for (const m of target.members) {
    const file = path.join(cache, `${m}.onnx`);
    // A private folder: the cache (and so outDir) may be shared with other runs.
    const dir = fs.mkdtempSync(path.join(require('os').tmpdir(), `calib-samples-${m}-`));
    members.push({ id: m, file, dir, sess: await session(file, 'basic'), runs: 0 });
  }
  // First pass: count the runs per model; second: write the kept runs' feeds.
  await runTask(target.task, members.map((mm) => recordingSession(mm.sess, () => { mm.runs++; })), set, items, inputsDir);
  for (const mm of members) { mm.keep = spacedRuns(mm.runs, a.maxRuns); mm.seen = 0; mm.written = 0; }
  await runTask(target.task, members.map((mm) => recordingSession(mm.sess, (feeds) => {
    if (!mm.keep.has(mm.seen++)) return;
    writeNpz(path.join(mm.dir, `${String(mm.written++).padStart(5, '0')}.npz`), feedArrays(feeds));
  })), set, items, inputsDir);
  for (const mm of members) {
    await mm.sess.release?.();
    const out = path.join(outDir, `${mm.id}.calib`);
    const r = spawnSync(process.execPath, [TOOL, mm.file, '--samples', mm.dir, '-o', out, ...toolFlags, '--onnx-opt', process.env.ONNX_OPT || path.join(__dirname, '..', 'build', 'driver', 'onnx-opt')],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
    if (r.status !== 0) die(`onnx-opt-calibrate on ${mm.id}: ${(r.stderr || '').trim().split('\n').pop()}`);
    process.stdout.write(r.stdout);
    fs.rmSync(mm.dir, { recursive: true, force: true });
    const meta = {
      model: mm.id,
      source_sha256: crypto.createHash('sha256').update(fs.readFileSync(mm.file)).digest('hex'),
      inputs: { dir: inputsDir, items: items.map((it) => it.file) },
      runs: { total: mm.runs, written: mm.written, max_runs: a.maxRuns || null },
      prepare: a.prepare || null,
      what: a.what || null,
    };
    fs.writeFileSync(`${out}.json`, JSON.stringify(meta, null, 1) + '\n');
  }
  fs.rmSync(scratch, { recursive: true, force: true });
  console.error(`activations: ${target.id} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

if (require.main === module) main().catch((e) => die((e && e.message ? e.message : String(e)).split('\n')[0]));

module.exports = { spacedRuns, recordingSession, feedArrays };

#!/usr/bin/env node
// Latency of model files against a baseline in one command: ONNX Runtime (eval/node_modules) at
// its default optimization level, 2 intra-op threads (pools not spinning), on the first real
// input of an eval/make-inputs.py set. After 2 warm-up runs each, every round runs each file
// once, the order rotating from round to round; the figures are the median over rounds (>= 7)
// and, per file, the median of the per-round ratios to the first file (runs of a round are back
// to back, so a burst of load on the shared machine slows them alike). Prints `uptime` too.
//
//   node bench/latency.mjs --set ocr-rec [--runs 9] BASELINE.onnx OTHER.onnx...
//
// The README's latency figures come from this command (written next to each figure).
import { createRequire } from 'node:module';
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ort = createRequire(path.join(root, 'eval', 'package.json'))('onnxruntime-node');
const cache = process.env.ONNX_OPT_MODEL_CACHE || path.join(os.homedir(), '.cache', 'onnx-opt', 'models');

function fail(msg) {
  console.error(`latency: error: ${msg}`);
  process.exit(2);
}

function parseArgs(argv) {
  const a = { runs: 9, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => { if (i + 1 >= argv.length) fail(`${k} needs a value`); return argv[++i]; };
    if (k === '--set') a.set = val();
    else if (k === '--runs') a.runs = Number(val());
    else if (k.startsWith('-')) fail(`unknown option ${k} (usage: node bench/latency.mjs --set SET [--runs N] BASELINE.onnx OTHER.onnx...)`);
    else a.files.push(k);
  }
  if (!a.set) fail('--set SET is required (an input set of eval/make-inputs.py: ocr-rec, ocr-det, ocr-cls, isnet)');
  if (!(Number.isInteger(a.runs) && a.runs >= 7)) fail(`--runs must be an integer >= 7, not ${a.runs}`);
  if (a.files.length < 2) fail('give a baseline model and at least one other');
  for (const f of a.files) if (!fs.statSync(f, { throwIfNoEntry: false })?.isFile()) fail(`${f}: no such file`);
  return a;
}

// The first item of the set, as eval/run.js feeds it (raw float32, shape from the manifest).
function realInput(set, inputName) {
  const dir = path.join(cache, 'inputs');
  const manifest = path.join(dir, 'inputs.json');
  if (!fs.existsSync(manifest)) fail(`${manifest} missing (run /usr/bin/python3 eval/make-inputs.py)`);
  const s = JSON.parse(fs.readFileSync(manifest, 'utf8')).sets[set];
  if (!s || !s.items.length) fail(`${manifest} has no set '${set}'`);
  const item = s.items[0];
  const bytes = fs.readFileSync(path.join(dir, item.file));
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  return { feeds: { [inputName]: new ort.Tensor('float32', data, item.shape) }, item: item.file };
}

const median = (xs) => {
  const s = [...xs].sort((p, q) => p - q);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const sessions = [];
  for (const f of a.files) {
    try {
      sessions.push(await ort.InferenceSession.create(f, {
        intraOpNumThreads: 2, interOpNumThreads: 1, logSeverityLevel: 3,
        extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
      }));
    } catch (e) { fail(`${f}: ONNX Runtime cannot load it: ${String(e.message).split('\n')[0]}`); }
  }
  const { feeds, item } = realInput(a.set, sessions[0].inputNames[0]);
  for (const s of sessions) for (let w = 0; w < 2; w++) await s.run(feeds);
  const times = sessions.map(() => []);
  for (let r = 0; r < a.runs; r++) {
    for (let j = 0; j < sessions.length; j++) {
      const k = (j + r) % sessions.length;
      const t = process.hrtime.bigint();
      await sessions[k].run(feeds);
      times[k].push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }
  const load = execSync('uptime', { encoding: 'utf8' }).trim();
  console.log(`ONNX Runtime ${ort.env.versions?.common || ''} default level, 2 threads, input ${item}, ${a.runs} interleaved rounds; uptime: ${load}`);
  console.log('| model | size MB | median ms | min ms | × baseline (median of per-round ratios) |');
  console.log('|---|---:|---:|---:|---:|');
  a.files.forEach((f, k) => {
    const ratio = k === 0 ? 1 : median(times[k].map((t, r) => t / times[0][r]));
    console.log(`| ${path.basename(f)} | ${(fs.statSync(f).size / 1e6).toFixed(3)} | ${median(times[k]).toFixed(1)} | ${Math.min(...times[k]).toFixed(1)} | ${ratio.toFixed(2)} |`);
  });
}

main().catch((e) => fail(e.message));

#!/usr/bin/env node
// Measured per-layer output noise of integer inference: for every node that optimize-speed
// quantizes, the model with only that node quantized (quantize-activations{nodes=NODE}) runs
// on the real kernels (ORT default level) on the calibration inputs of the task, and its main
// output is compared with the fp32 model's: noise = ||y - y_fp32||^2 / ||y_fp32||^2 (and SQNR).
// Summing the noise of the layers kept integer estimates the whole model's (to first order), so
// a per-layer decision can spend a noise budget on the layers that save the most time.
//
//   node bench/layer-noise.mjs TARGET --calibration FILE.calib [--limit N] [--out FILE.json]
//
// TARGET: a one-model target of eval/models.json (ocr-cls, ocr-det, ocr-rec, isnet). Inputs:
// <cache>/calib (eval/make-inputs.py --calibration), the first N items (default 4). The .calib
// is optimize-speed's (eval/activations.js TARGET --prepare speed --what ranges).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { ROOT, createSession, machine, onnxOptBin, modelCache, readJson } from './lib/timing.mjs';

const { runTask, Fidelity } = createRequire(path.join(ROOT, 'eval', 'package.json'))('./run.js');

function parseArgs(argv) {
  const a = { pos: [], limit: 4 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => { if (i + 1 >= argv.length) throw new Error(`${k} needs a value`); return argv[++i]; };
    if (k === '--calibration') a.calibration = val();
    else if (k === '--limit') a.limit = Number(val());
    else if (k === '--out') a.out = val();
    else if (k.startsWith('--')) throw new Error(`unknown argument ${k}`);
    else a.pos.push(k);
  }
  if (a.pos.length !== 1 || !a.calibration) throw new Error('usage: layer-noise.mjs TARGET --calibration FILE.calib [--limit N] [--out FILE]');
  return a;
}

function onnxOpt(args) {
  const r = spawnSync(onnxOptBin(), args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`onnx-opt ${args.join(' ')}: ${(r.stderr || '').trim().split('\n').pop()}`);
}

async function outputs(file, task, set, items, dir) {
  const s = await createSession(file);
  const outs = await runTask(task, [s], set, items, dir);
  await s.release?.();
  return outs;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const target = readJson(path.join(ROOT, 'eval', 'models.json')).targets.find((t) => t.id === a.pos[0]);
  if (!target || target.members.length !== 1) throw new Error(`'${a.pos[0]}' is not a one-model target`);
  const model = path.join(modelCache(), `${target.members[0]}.onnx`);
  const calibDir = path.join(modelCache(), 'calib');
  const set = readJson(path.join(calibDir, 'inputs.json')).sets[target.task];
  if (!set) throw new Error(`${calibDir}/inputs.json has no '${target.task}' set`);
  const items = set.items.slice(0, a.limit);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'layer-noise-'));
  const load = machine().load;
  const cal = JSON.stringify(path.resolve(a.calibration));
  // The nodes the full pipeline quantizes, from its report.
  const report = path.join(scratch, 'report.json');
  onnxOpt([model, '-p', `optimize-speed{calibration=${cal},report=${JSON.stringify(report)}}`, '-o', path.join(scratch, 'all.onnx')]);
  const nodes = readJson(report).nodes.filter((n) => n.decision === 'integer');
  const ref = await outputs(model, target.task, set, items, calibDir);
  const noiseOf = (outs) => {
    const f = new Fidelity();
    outs.forEach((o, i) => f.add(ref[i].main, o.main));
    const r = f.result();
    return { sqnr_db: r.sqnr_db, noise: 10 ** (-r.sqnr_db / 10) };
  };
  const all = noiseOf(await outputs(path.join(scratch, 'all.onnx'), target.task, set, items, calibDir));
  console.error(`layer-noise: ${target.id}: ${nodes.length} integer nodes, all of them: ${all.sqnr_db} dB`);
  const rows = [];
  for (const [k, n] of nodes.entries()) {
    const file = path.join(scratch, 'one.onnx');
    const options = JSON.stringify(`nodes=${JSON.stringify(n.name)}`);
    onnxOpt([model, '-p', `optimize-speed{calibration=${cal},quantize-options=${options}}`, '-o', file]);
    const r = noiseOf(await outputs(file, target.task, set, items, calibDir));
    rows.push({ name: n.name, op: n.op, ...r });
    if ((k + 1) % 10 === 0) console.error(`layer-noise: ${k + 1}/${nodes.length}`);
  }
  rows.sort((x, y) => y.noise - x.noise);
  const sum = rows.reduce((s, r) => s + r.noise, 0);
  const result = {
    format: 'onnx-opt-layer-noise-1', target: target.id, model, calibration: path.resolve(a.calibration),
    command: `node bench/layer-noise.mjs ${process.argv.slice(2).join(' ')}`, load,
    items: items.map((i) => i.file), all_integer: all, sum_of_layers: { noise: sum, sqnr_db: -10 * Math.log10(sum) },
    measure: 'noise = ||y - y_fp32||^2 / ||y_fp32||^2 of the main output with only this node quantized, ORT default level',
    layers: rows,
  };
  fs.rmSync(scratch, { recursive: true, force: true });
  const text = `${JSON.stringify(result, null, 1)}\n`;
  if (a.out) fs.writeFileSync(a.out, text); else process.stdout.write(text);
  for (const r of rows.slice(0, 15)) console.error(`  ${r.sqnr_db.toFixed(1).padStart(6)} dB  ${r.op.padEnd(18)} ${r.name}`);
}

main().catch((e) => { console.error(`layer-noise: error: ${e.message.split('\n')[0]}`); process.exit(2); });

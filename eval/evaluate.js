#!/usr/bin/env node
// Driver of scripts/eval.sh: for every target model (eval/models.json) and every
// configuration (eval/configs.json) run onnx-opt, then eval/run.js, and write results.json,
// the summary results.md, every row in results-sweep.md and one SVG plot per target
// (eval/report.js, eval/plot.js).
//
//   node eval/evaluate.js [--quick] [--targets a,b] [--configs x,y] [--out-dir DIR]
//                         [--latency-runs N] [--check] [--replot results.json [--merge new.json]]
//
// --quick: targets/configs from configs.json "quick", output to eval/out/quick,
//          and --check. --check: compare every figure with eval/thresholds.json and
//          exit 1 when one falls below it. ONNX_OPT (env) overrides the onnx-opt
//          binary (default build/driver/onnx-opt). --replot A --merge B: B's rows replace
//          A's rows of the same target and config (others are added in configs.json order);
//          A's "notes" and "sections" (Markdown kept across re-renders) stay; written to A.
//          A section {title, text, page} goes into results.md, or results-sweep.md when page
//          is "sweep"; a full run into a folder with a results.json keeps its sections.
'use strict';
const fs = require('fs');
const path = require('path');
const os = require('os');
const { spawnSync } = require('child_process');
const { writePages, sweepMarkdown } = require('./report.js');

const ROOT = path.resolve(__dirname, '..');
const cache = process.env.ONNX_OPT_MODEL_CACHE || path.join(os.homedir(), '.cache', 'onnx-opt', 'models');

function die(msg) {
  console.error(`eval: error: ${msg}`);
  process.exit(2);
}

function parseArgs(argv) {
  const a = { quick: false, check: false, latencyRuns: 7, keepGoing: true };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => { if (i + 1 >= argv.length) die(`${k} needs a value`); return argv[++i]; };
    if (k === '--quick') { a.quick = true; a.check = true; }
    else if (k === '--check') a.check = true;
    else if (k === '--targets' || k === '--models') a.targets = val().split(',');
    else if (k === '--configs') a.configs = val().split(',');
    else if (k === '--out-dir') a.outDir = val();
    else if (k === '--latency-runs') a.latencyRuns = parseInt(val(), 10);
    else if (k === '--fail-fast') a.keepGoing = false;
    else if (k === '--replot') a.replot = val();
    else if (k === '--merge') a.merge = val();
    else if (k === '--limit') a.limit = parseInt(val(), 10);
    else if (k === '-h' || k === '--help') {
      const head = fs.readFileSync(__filename, 'utf8').split('\n');
      console.log(head.slice(1, head.indexOf("'use strict';")).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
      process.exit(0);
    } else die(`unknown argument ${k}`);
  }
  return a;
}

const fmtTime = (s) => (s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(1)}s`);
const mb = (b) => b / 1e6;

function onnxOptBin() {
  const b = process.env.ONNX_OPT || path.join(ROOT, 'build', 'driver', 'onnx-opt');
  return b;
}

// The onnx-opt build the cached sensitivity and calibration files were made with: they come out
// of its expose-activations, upgrade-opset and quantize-weights passes, so a new build re-measures
// them and a regression in those passes reaches a warm gate. One stamp file next to each cached
// file holds the sha256 of the binary (the driver links onnx-opt's code statically).
let buildHash = null;
function onnxOptBuildHash() {
  if (buildHash === null) {
    try { buildHash = require('crypto').createHash('sha256').update(fs.readFileSync(onnxOptBin())).digest('hex'); } catch { buildHash = 'missing'; }
  }
  return buildHash;
}
const stampOf = (file) => `${file}.onnx-opt-sha256`;
const stampFresh = (file) => fs.existsSync(stampOf(file)) && fs.readFileSync(stampOf(file), 'utf8').trim() === onnxOptBuildHash();
// sensitivity.js and activations.js measure every model of the target in one run: stamp them all.
const writeStamps = (target, fileOf) => {
  const t = JSON.parse(fs.readFileSync(path.join(__dirname, 'models.json'), 'utf8')).targets.find((x) => x.id === target);
  for (const m of t.members) if (fs.existsSync(fileOf(m))) fs.writeFileSync(stampOf(fileOf(m)), `${onnxOptBuildHash()}\n`);
};

function runOnnxOpt(input, pipeline, output) {
  const bin = onnxOptBin();
  if (!fs.existsSync(bin)) return { error: `onnx-opt not found at ${bin} (build it, or set ONNX_OPT)` };
  fs.mkdirSync(path.dirname(output), { recursive: true });
  const t = process.hrtime.bigint();
  const r = spawnSync(bin, [input, '-p', pipeline, '-o', output], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const secs = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.error) return { error: `cannot run ${bin}: ${r.error.message}` };
  if (r.status !== 0) {
    let msg = (r.stderr || r.stdout || '').trim().split('\n').filter(Boolean).pop() || `exit status ${r.status}`;
    msg = msg.replace(/^onnx-opt: [^:]*: /, '');
    return { error: `onnx-opt -p '${pipeline}' failed: ${msg}`, secs };
  }
  if (!fs.existsSync(output)) return { error: `onnx-opt -p '${pipeline}' wrote no ${output}`, secs };
  return { secs };
}

// Pipelines may name a per-model sensitivity file as @SENSITIVITY@ (mixed precision ranked by
// measured output noise): <cache>/work/sensitivity/<target>/<model>.json, measured by
// eval/sensitivity.js (with the config's "sensitivity_probe") when missing. A probe other than
// the default gets its own folder, <target>/probe-<sha256 of the probe, 12 hex>/, so configs with
// different probes do not overwrite each other's files.
const DEFAULT_PROBE = 'quantize-weights{bits=4,block-size=32,symmetric=false}';
function sensitivityFile(target, member, probe) {
  const base = path.join(cache, 'work', 'sensitivity', target);
  const dir = probe === DEFAULT_PROBE ? base
    : path.join(base, `probe-${require('crypto').createHash('sha256').update(probe).digest('hex').slice(0, 12)}`);
  const file = path.join(dir, `${member}.json`);
  const sha = require('crypto').createHash('sha256').update(fs.readFileSync(path.join(cache, `${member}.onnx`))).digest('hex');
  // Measured on today's calibration set: the same item files (make-inputs.py may add some).
  const calib = path.join(cache, 'calib', 'inputs.json');
  const task = JSON.parse(fs.readFileSync(path.join(__dirname, 'models.json'), 'utf8')).targets.find((t) => t.id === target).task;
  const items = fs.existsSync(calib) ? ((JSON.parse(fs.readFileSync(calib, 'utf8')).sets[task] || { items: [] }).items.map((it) => it.file)) : [];
  const fresh = () => {
    if (!fs.existsSync(file)) return false;
    const j = JSON.parse(fs.readFileSync(file, 'utf8'));
    return j.probe === probe && j.source_sha256 === sha && JSON.stringify((j.inputs && j.inputs.items) || []) === JSON.stringify(items) && stampFresh(file);
  };
  if (!fresh()) {
    const args = [path.join(__dirname, 'sensitivity.js'), target, '--out-dir', dir, ...(probe ? ['--probe', probe] : [])];
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, ONNX_OPT: onnxOptBin() }, maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`sensitivity.js ${target}: ${(r.stderr || '').trim().split('\n').pop()}`);
    writeStamps(target, (m) => path.join(dir, `${m}.json`));
    if (!fresh()) throw new Error(`sensitivity.js ${target} wrote no ${file}`);
  }
  return file;
}

// Pipelines may name a per-model calibration file as @CALIBRATION@ (data-aware rounding,
// quantize-weights{calibration=FILE}): <cache>/work/calibration/<target>/<model>.calib, made by
// onnx-opt-calibrate through eval/activations.js from the inputs the task gives the model on the
// calibration set (with the config's "calibration_limit" items and "calibration_max_runs" runs
// per model), remade when missing or made from another model file or input selection.
function calibrationFile(target, member, limit, maxRuns) {
  const dir = path.join(cache, 'work', 'calibration', target);
  const file = path.join(dir, `${member}.calib`);
  const sha = require('crypto').createHash('sha256').update(fs.readFileSync(path.join(cache, `${member}.onnx`))).digest('hex');
  const fresh = () => {
    if (!fs.existsSync(file) || !fs.existsSync(`${file}.json`)) return false;
    const j = JSON.parse(fs.readFileSync(`${file}.json`, 'utf8'));
    const items = j.inputs && j.inputs.items ? j.inputs.items.length : -1;
    const calib = path.join(cache, 'calib', 'inputs.json');
    const task = JSON.parse(fs.readFileSync(path.join(__dirname, 'models.json'), 'utf8')).targets.find((t) => t.id === target).task;
    const all = fs.existsSync(calib) ? (JSON.parse(fs.readFileSync(calib, 'utf8')).sets[task] || { items: [] }).items.length : -1;
    return j.source_sha256 === sha && items === (limit > 0 ? Math.min(limit, all) : all) && (j.runs?.max_runs || 0) === (maxRuns || 0) && stampFresh(file);
  };
  if (!fresh()) {
    const args = [path.join(__dirname, 'activations.js'), target, '--out-dir', dir,
      ...(limit > 0 ? ['--limit', String(limit)] : []), ...(maxRuns > 0 ? ['--max-runs', String(maxRuns)] : [])];
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, ONNX_OPT: onnxOptBin() }, maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`activations.js ${target}: ${(r.stderr || '').trim().split('\n').pop()}`);
    writeStamps(target, (m) => path.join(dir, `${m}.calib`));
    if (!fresh()) throw new Error(`activations.js ${target} wrote no usable ${file}`);
  }
  return file;
}

function runEval(task, files, extra) {
  const args = [path.join(__dirname, 'run.js'), task, files.join(','), ...extra];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) {
    const msg = (r.stderr || '').trim().split('\n').filter(Boolean).pop() || `exit status ${r.status}`;
    return { error: msg };
  }
  try { return JSON.parse(r.stdout); } catch (e) { return { error: `run.js printed no JSON: ${e.message}` }; }
}

// Every target/config of eval/thresholds.json (keys starting with "_" are notes) that the run
// selected must have a row, and under --quick (complete) the run and the file must list the same
// pairs: a configuration dropped from the quick set, or run without a threshold, fails instead of
// going unchecked.
function checkThresholds(rows, thresholds, jobs, complete) {
  const fails = [];
  const notes = [];
  const tagOf = (t, c) => `${t}/${c}`;
  const byTag = new Map(rows.map((r) => [tagOf(r.target, r.config), r]));
  const jobTags = new Set(jobs.map(({ t, c }) => tagOf(t.id, c.id)));
  const entries = [];
  for (const [target, byConfig] of Object.entries(thresholds)) {
    if (target.startsWith('_')) continue;
    for (const [config, t] of Object.entries(byConfig)) if (!config.startsWith('_')) entries.push([tagOf(target, config), t]);
  }
  if (complete) {
    const listed = new Set(entries.map(([tag]) => tag));
    for (const tag of jobTags) if (!listed.has(tag)) fails.push(`${tag}: run but not in eval/thresholds.json (unchecked)`);
  }
  for (const [tag, t] of entries) {
    if (!jobTags.has(tag)) {
      if (complete) fails.push(`${tag}: in eval/thresholds.json but not run (dropped from configs.json "quick"?)`);
      continue;
    }
    const r = byTag.get(tag);
    if (!r) { fails.push(`${tag}: no result`); continue; }
    if (r.error) { fails.push(`${tag}: ${r.error}`); continue; }
    const f = r.fidelity || {};
    if (t.sqnr_db_min != null && !(f.sqnr_db >= t.sqnr_db_min)) fails.push(`${tag}: SQNR ${f.sqnr_db} dB < ${t.sqnr_db_min}`);
    if (t.cosine_min != null && !(f.cosine >= t.cosine_min)) fails.push(`${tag}: cosine ${f.cosine} < ${t.cosine_min}`);
    if (t.metric_min != null && !(r.metric.value >= t.metric_min)) fails.push(`${tag}: ${r.metric.name} ${r.metric.value} < ${t.metric_min}`);
    if (t.metric_max != null && !(r.metric.value <= t.metric_max)) fails.push(`${tag}: ${r.metric.name} ${r.metric.value} > ${t.metric_max}`);
    if (t.ratio_max != null && !(r.ratio <= t.ratio_max)) fails.push(`${tag}: size ratio ${r.ratio.toFixed(4)} > ${t.ratio_max}`);
    if (t.flips_max != null && !((r.metric.flips_vs_fp32 ?? 0) <= t.flips_max)) fails.push(`${tag}: ${r.metric.flips_vs_fp32} decision flips > ${t.flips_max}`);
    notes.push(tag);
  }
  return { fails, checked: notes };
}

// ---------------------------------------------------------------- main ----
// Rows of `add` replace the rows of `base` with the same target and config; new ones go after
// their target's rows in configs.json order (new targets at the end).
function mergeRows(base, add, configOrder) {
  const key = (r) => `${r.target}/${r.config}`;
  const replaced = new Map(add.map((r) => [key(r), r]));
  const rows = base.map((r) => replaced.get(key(r)) || r);
  const have = new Set(rows.map(key));
  const rank = (c) => { const k = configOrder.indexOf(c); return k < 0 ? configOrder.length : k; };
  for (const r of add) {
    if (have.has(key(r))) continue;
    let at = -1;
    rows.forEach((x, i) => { if (x.target === r.target && rank(x.config) <= rank(r.config)) at = i; });
    if (at < 0) rows.forEach((x, i) => { if (x.target === r.target) at = i; });
    if (at < 0) rows.push(r); else rows.splice(at + 1, 0, r);
    have.add(key(r));
  }
  return rows;
}

function replot(file, outDir, mergeFile) {
  const j = JSON.parse(fs.readFileSync(file, 'utf8'));
  const models = JSON.parse(fs.readFileSync(path.join(__dirname, 'models.json'), 'utf8'));
  if (mergeFile) {
    const add = JSON.parse(fs.readFileSync(mergeFile, 'utf8'));
    if (add.partial) die(`${mergeFile} is a partial run; merge finished runs only`);
    const order = JSON.parse(fs.readFileSync(path.join(__dirname, 'configs.json'), 'utf8')).configs.map((c) => c.id);
    const fresh = add.rows.filter((r) => r.config !== 'fp32' || !j.rows.some((x) => x.target === r.target && x.config === 'fp32'));
    j.rows = mergeRows(j.rows, fresh, order);
    // Each earlier run keeps only the rows still shown; runs left with none are dropped.
    const now = new Set(fresh.map((r) => `${r.target}/${r.config}`));
    j.merged = [...(j.merged || []).map((m) => ({ ...m, rows: m.rows.filter((k) => !now.has(k)) })).filter((m) => m.rows.length),
      { date: add.date, command: add.command, onnxOpt: add.onnxOpt, rows: [...now] }];
    fs.writeFileSync(file, JSON.stringify(j, null, 1) + '\n');
    console.log(`eval: merged ${fresh.length} rows of ${mergeFile} into ${file}`);
  }
  const byId = new Map(models.models.map((m) => [m.id, m]));
  const meta = { ...j, descriptions: Object.fromEntries(models.targets.map((t) => [t.id, t.description || t.members.map((m) => byId.get(m).description).join(' ')])) };
  outDir = path.resolve(outDir || path.dirname(file));
  writePages(outDir, j.command, j.rows, meta);
  console.log(`eval: re-plotted ${file} into ${outDir}`);
}

function main() {
  const a = parseArgs(process.argv.slice(2));
  if (a.merge && !a.replot) die('--merge needs --replot BASE.json');
  if (a.replot) return replot(a.replot, a.outDir, a.merge);
  const models = JSON.parse(fs.readFileSync(path.join(__dirname, 'models.json'), 'utf8'));
  const cfg = JSON.parse(fs.readFileSync(path.join(__dirname, 'configs.json'), 'utf8'));
  const byId = new Map(models.models.map((m) => [m.id, m]));
  let targets = models.targets;
  let configs = cfg.configs;
  const want = a.targets || (a.quick ? cfg.quick.targets : null);
  const wantC = a.configs || (a.quick ? cfg.quick.configs : null);
  if (want) {
    for (const t of want) if (!targets.some((x) => x.id === t)) die(`unknown target '${t}' (known: ${targets.map((x) => x.id).join(', ')})`);
    targets = targets.filter((t) => want.includes(t.id));
  }
  if (wantC) {
    for (const c of wantC) if (!configs.some((x) => x.id === c)) die(`unknown config '${c}' (known: ${configs.map((x) => x.id).join(', ')})`);
    configs = configs.filter((c) => wantC.includes(c.id));
  }
  if (!configs.some((c) => c.id === 'fp32')) configs = [cfg.configs.find((c) => c.id === 'fp32'), ...configs];
  const outDir = path.resolve(a.outDir || (a.quick ? path.join(__dirname, 'out', 'quick') : path.join(ROOT, 'docs')));
  const work = path.join(cache, 'work');

  // Jobs, fp32 first for each target (it writes the reference outputs).
  const jobs = [];
  for (const t of targets) {
    const hasMatmul = t.members.some((m) => byId.get(m).matmuls > 0);
    for (const c of configs) {
      if (c.only_with_matmul && !hasMatmul) continue;
      if ((c.skip_targets || []).includes(t.id)) continue;
      jobs.push({ t, c });
    }
  }
  for (const t of targets) for (const m of t.members) {
    const f = path.join(cache, `${m}.onnx`);
    if (!fs.existsSync(f)) die(`model ${f} missing (run scripts/fetch-models.sh ${m})`);
  }

  if (jobs.some(({ c }) => c.pipeline || c.upgrade) && !fs.existsSync(onnxOptBin())) {
    console.error(`eval: warning: onnx-opt not found at ${onnxOptBin()} (build it with ninja -C build, or set ONNX_OPT); its configurations will fail`);
  }
  const start = Date.now();
  const rows = [];
  const envs = ['ONNX_OPT', 'ONNX_OPT_MODEL_CACHE'].filter((k) => process.env[k]).map((k) => `${k}=${path.relative(ROOT, process.env[k]).startsWith('..') ? process.env[k] : path.relative(ROOT, process.env[k])}`);
  const cmd = [...envs, 'scripts/eval.sh', ...process.argv.slice(2).map((x) => (/[^\w@%+=:,./-]/.test(x) ? `'${x}'` : x))].join(' ');
  const ortVersion = require('onnxruntime-node/package.json').version;
  const meta = {
    date: new Date().toISOString(), ort: ortVersion, cpus: os.cpus().length, onnxOpt: path.relative(ROOT, onnxOptBin()) || onnxOptBin(),
    descriptions: Object.fromEntries(models.targets.map((t) => [t.id, t.description || t.members.map((m) => byId.get(m).description).join(' ')])),
    checks: [],
  };
  // The sections (Markdown studies kept across re-renders, e.g. "Integer inference") of the run
  // this one replaces stay; its provenance notes describe other rows and do not.
  const prev = path.join(outDir, 'results.json');
  if (fs.existsSync(prev)) meta.sections = JSON.parse(fs.readFileSync(prev, 'utf8')).sections;
  // Written after every job (partial: true until the end), so an interrupted run keeps its rows.
  const writeAll = (partial) => {
    writePages(outDir, cmd, rows, meta, partial ? `\n_Partial: ${rows.length} of ${jobs.length} runs done._\n` : '');
    fs.writeFileSync(path.join(outDir, 'results.json'), JSON.stringify({ command: cmd, ...meta, descriptions: undefined, partial, rows }, null, 1) + '\n');
  };

  const durations = new Map();
  const upgraded = new Map(); // member -> {file, secs} or {error}
  const fp32Bytes = {};
  const latencyArgs = ['--latency-runs', String(a.latencyRuns), ...(a.limit > 0 ? ['--limit', String(a.limit)] : [])];
  jobs.forEach(({ t, c }, idx) => {
    const j0 = Date.now();
    const row = { target: t.id, config: c.id, config_label: c.label, pipeline: c.pipeline };
    const files = [];
    let optSecs = c.pipeline ? 0 : null, upSecs = null;
    try {
      for (const m of t.members) {
        const meta = byId.get(m);
        let src = path.join(cache, `${m}.onnx`);
        if (c.upgrade && meta.opset < cfg.upgrade.below_opset) {
          if (!upgraded.has(m)) {
            const out = path.join(work, 'upgraded', `${m}.onnx`);
            const r = runOnnxOpt(src, cfg.upgrade.pipeline, out);
            upgraded.set(m, r.error ? { error: r.error } : { file: out, secs: r.secs });
          }
          const u = upgraded.get(m);
          if (u.error) throw new Error(u.error);
          src = u.file;
          upSecs = (upSecs || 0) + u.secs;
        }
        if (c.pipeline && !(c.only_with_matmul && !(meta.matmuls > 0))) {
          const out = path.join(work, t.id, c.id, `${m}.onnx`);
          let pipeline = c.pipeline;
          if (pipeline.includes('@SENSITIVITY@')) {
            let probe = c.sensitivity_probe || DEFAULT_PROBE;
            if (probe.includes('@CALIBRATION@')) {
              // sensitivity.js applies one probe to every member: one manifest fits one model only.
              if (t.members.length !== 1) throw new Error(`sensitivity_probe with @CALIBRATION@ needs a one-model target, not ${t.id}`);
              probe = probe.replace(/@CALIBRATION@/g, JSON.stringify(calibrationFile(t.id, m, c.calibration_limit || 0, c.calibration_max_runs || 0)));
            }
            const q = JSON.stringify(sensitivityFile(t.id, m, probe));
            pipeline = pipeline.replace(/@SENSITIVITY@/g, q);
          }
          if (pipeline.includes('@CALIBRATION@')) {
            const q = JSON.stringify(calibrationFile(t.id, m, c.calibration_limit || 0, c.calibration_max_runs || 0));
            pipeline = pipeline.replace(/@CALIBRATION@/g, q);
          }
          const r = runOnnxOpt(src, pipeline, out);
          if (r.error) throw new Error(r.error);
          optSecs += r.secs;
          src = out;
        }
        files.push(src);
      }
      const extra = c.id === 'fp32' ? ['--save-ref', ...latencyArgs] : latencyArgs;
      const res = runEval(t.task, files, extra);
      if (res.error) throw new Error(res.error);
      row.bytes = res.bytes;
      if (c.id === 'fp32') fp32Bytes[t.id] = res.bytes;
      row.ratio = fp32Bytes[t.id] ? res.bytes / fp32Bytes[t.id] : NaN;
      row.fidelity = res.fidelity;
      if (res.fidelity_embeddings) row.fidelity_embeddings = res.fidelity_embeddings;
      row.metric = res.metric;
      row.latency = res.latency;
      row.onnx_opt_s = optSecs;
      row.upgrade_s = upSecs;
      row.files = files;
    } catch (e) {
      row.error = e.message;
    }
    rows.push(row);
    const d = (Date.now() - j0) / 1000;
    if (!durations.has(t.id)) durations.set(t.id, []);
    durations.get(t.id).push(d);
    // ETA: mean duration of this target's finished jobs (or of all jobs) per remaining job.
    // Targets not started yet: seconds per fp32 MB of the finished jobs times their size.
    const tBytes = (tt) => tt.members.reduce((s, m) => { try { return s + fs.statSync(path.join(cache, `${m}.onnx`)).size; } catch { return s; } }, 0);
    let doneSecs = 0, doneBytes = 0;
    for (const [tid, ds] of durations) { doneSecs += ds.reduce((x, y) => x + y, 0); doneBytes += ds.length * tBytes(targets.find((x) => x.id === tid)); }
    const perByte = doneBytes ? doneSecs / doneBytes : 0;
    let left = 0;
    for (const { t: tt } of jobs.slice(idx + 1)) {
      const ds = durations.get(tt.id);
      left += ds ? ds.reduce((x, y) => x + y, 0) / ds.length : perByte * tBytes(tt);
    }
    const elapsed = (Date.now() - start) / 1000;
    const status = row.error ? `ERROR ${row.error}` : `${mb(row.bytes).toFixed(2)} MB, SQNR ${row.fidelity.sqnr_db === 999 ? 'exact' : `${row.fidelity.sqnr_db} dB`}, ${row.metric.name} ${row.metric.value}`;
    console.log(`[${idx + 1}/${jobs.length}] ${t.id} ${c.id}: ${status} (${fmtTime(d)}) | elapsed ${fmtTime(elapsed)}, ~${fmtTime(left)} left`);
    writeAll(true);
  });

  let failed = [];
  if (a.check) {
    const tpath = path.join(__dirname, 'thresholds.json');
    const thr = JSON.parse(fs.readFileSync(tpath, 'utf8'));
    const r = checkThresholds(rows, thr, jobs, a.quick);
    failed = r.fails;
    meta.checks = [`checked ${r.checked.length} rows against eval/thresholds.json: ${r.fails.length ? `${r.fails.length} FAILED` : 'all pass'}`, ...r.fails];
  }
  writeAll(false);
  console.log(`eval: wrote ${path.relative(process.cwd(), path.join(outDir, 'results.md')) || 'results.md'}, results.json and ${targets.length} plots in ${fmtTime((Date.now() - start) / 1000)}`);

  const errors = rows.filter((r) => r.error).length;
  if (a.check && failed.length) {
    for (const f of failed) console.error(`eval: threshold: ${f}`);
    console.error(`eval: FAIL: ${failed.length} checks of eval/thresholds.json failed`);
    process.exit(1);
  }
  if (errors) console.error(`eval: ${errors} of ${rows.length} runs failed (see the table)`);
  process.exit(errors && a.check ? 1 : 0);
}

if (require.main === module) main();

module.exports = { mergeRows, markdown: sweepMarkdown, checkThresholds };

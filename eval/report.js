// The pages of the evaluation, rendered from its rows (results.json) by evaluate.js after every
// run and on --replot:
//   results.md        the user-facing summary: per model the configuration that is best for each
//                     goal (one table: pipeline, size, fidelity, task metric, latency), the command
//                     that reproduces the figures, the plots and the "summary" sections.
//   results-sweep.md  every configuration of every model, the provenance of each run (commands,
//                     dates, binaries) and the "sweep" sections.
// A section of results.json ({title, text, page}) goes to the summary unless page is "sweep".
'use strict';
const fs = require('fs');
const path = require('path');

const SUMMARY = 'results.md';
const SWEEP = 'results-sweep.md';
const mb = (b) => b / 1e6;
const readJson = (f) => JSON.parse(fs.readFileSync(path.join(__dirname, f), 'utf8'));

// What "keeps the task" means per task (the summary states it), and which way the task metric
// improves (for the plots).
const TASK_RULES = {
  'ocr-rec': { text: "CER no higher than fp32's", keeps: (m, ref) => m.value <= ref.value, lowerIsBetter: true },
  'ocr-cls': { text: "accuracy at least fp32's", keeps: (m, ref) => m.value >= ref.value },
  'ocr-det': {
    text: "mask IoU vs fp32 >= 0.95, box F1 vs fp32 >= 0.99 and every ground-truth line fp32 finds",
    keeps: (m, ref) => m.value >= 0.95 && m.box_f1_vs_fp32 >= 0.99 && m.gt_recall >= ref.gt_recall,
  },
  wakeword: { text: "no wake decision differs from fp32's", keeps: (m) => m.flips_vs_fp32 === 0 },
  isnet: { text: 'mask IoU vs fp32 >= 0.99', keeps: (m) => m.value >= 0.99 },
};

// Calibration data (activations or measured sensitivity) needed to build the configuration.
const needsData = (r) => /@(CALIBRATION|SENSITIVITY)@/.test(r.pipeline || '');
const sqnr = (r) => (r.fidelity && r.fidelity.sqnr_db != null ? r.fidelity.sqnr_db : -Infinity);

function keepsTask(task, row, ref) {
  const rule = TASK_RULES[task];
  return Boolean(rule && row.metric && ref && ref.metric && rule.keeps(row.metric, ref.metric));
}

// The best configuration for each goal: [{goals: [text], row}], fp32 first. Sizes are compared
// with int4 b32 asym's and int8 b64 asym's (1% slack): "at int4 size" is at most the former.
function chooseBest(task, rows) {
  const ref = rows.find((r) => r.config === 'fp32' && !r.error);
  const cands = rows.filter((r) => !r.error && r.pipeline && r.ratio > 0 && r.fidelity);
  const sizeOf = (id, fallback) => { const r = cands.find((x) => x.config === id); return r ? r.ratio * 1.01 : fallback; };
  const int4 = sizeOf('int4-b32-asym', 0.2), int8 = sizeOf('int8-b64-asym', 0.3);
  const keeps = (r) => keepsTask(task, r, ref);
  const smallest = (rs) => rs.sort((a, b) => a.ratio - b.ratio || sqnr(b) - sqnr(a))[0];
  const mostAccurate = (rs) => rs.sort((a, b) => sqnr(b) - sqnr(a) || a.ratio - b.ratio)[0];
  const noData = cands.filter((r) => !needsData(r));
  const withData = cands.filter(needsData);
  const picks = [];
  const add = (goal, row, unless) => { if (row && !(unless && unless(row))) picks.push({ goal, row }); };
  if (ref) add('reference', ref);
  const lossless = mostAccurate(noData.filter((r) => r.ratio <= int8 && keeps(r)));
  add('most accurate at int8 size, no data', lossless);
  const small = smallest(noData.filter(keeps));
  add('smallest that keeps the task, no data', small);
  add('smallest that keeps the task', smallest(withData.filter(keeps)), (r) => small && r.ratio >= small.ratio - 0.005);
  const int4Plain = mostAccurate(noData.filter((r) => r.ratio <= int4));
  add('most accurate at int4 size, no data', int4Plain);
  add('most accurate at int4 size', mostAccurate(withData.filter((r) => r.ratio <= int4)), (r) => int4Plain && sqnr(r) <= sqnr(int4Plain));
  add('most accurate at int8 size', mostAccurate(withData.filter((r) => r.ratio <= int8)), (r) => lossless && sqnr(r) <= sqnr(lossless));
  const out = [];
  for (const p of picks) {
    const same = out.find((o) => o.row === p.row);
    if (same) same.goals.push(p.goal); else out.push({ goals: [p.goal], row: p.row });
  }
  return out;
}

// The pipeline as a user runs it on the model: the opset upgrade the harness adds, and files for
// the harness's per-model placeholders.
function userPipeline(row, target, configs, models) {
  const c = configs.configs.find((x) => x.id === row.config) || {};
  const byId = new Map(models.models.map((m) => [m.id, m]));
  const low = target && target.members.some((m) => (byId.get(m) || {}).opset < configs.upgrade.below_opset);
  // configs.json's pipeline is what reproduces the row today (options may have been renamed or
  // made explicit since the run, e.g. target-size-of=weights).
  const p = (c.pipeline || row.pipeline || '').replace(/@CALIBRATION@|@SENSITIVITY@/g, 'model.calib');
  return c.upgrade && low ? `${configs.upgrade.pipeline},${p}` : p;
}

function metricCell(r) {
  if (!r.metric) return '';
  const m = r.metric;
  let s = `${m.name} ${m.value}`;
  if (m.summary) s += `, ${m.summary}`;
  if (m.flips_vs_fp32 !== undefined) s += `, flips ${m.flips_vs_fp32}`;
  if (r.fidelity_embeddings && r.config !== 'fp32') s += `; embeddings SQNR ${r.fidelity_embeddings.sqnr_db} dB`;
  if (m.line_accuracy !== undefined) s += `, lines exact ${m.line_accuracy}`;
  return s;
}

// The task metric in a few words, for the summary.
function metricShort(r) {
  const m = r.metric || {};
  const v = (x) => +Number(x).toFixed(4);
  if (m.box_f1_vs_fp32 !== undefined) return `mask IoU ${v(m.value)}, box F1 ${v(m.box_f1_vs_fp32)}, GT recall ${v(m.gt_recall)}`;
  if (m.flips_vs_fp32 !== undefined) return `accuracy ${v(m.value)}, ${m.flips_vs_fp32} flips`;
  return `${m.name.replace(/@[0-9.]+ vs fp32/, '')} ${v(m.value)}`;
}

const sqnrCell = (r) => (r.fidelity.sqnr_db >= 999 ? 'exact' : `${Number(r.fidelity.sqnr_db).toFixed(1)} dB`);

function summaryMarkdown(rows, meta) {
  const configs = readJson('configs.json'), models = readJson('models.json');
  const o = [];
  o.push('# onnx-opt results: what to run for each model', '');
  o.push('Each row is the best measured configuration of a model for one goal. Run it as',
    '`onnx-opt model.onnx -p \'PIPELINE\' -o model.q.onnx`; `model.calib` is a calibration file of the',
    'model made by `onnx-opt-calibrate` from your samples (docs/calibration.md; add',
    '`--what hessians,ranges,sensitivity` for `sensitivity=`; the figures use',
    '`eval/activations.js` and `eval/sensitivity.js` on the harness calibration set, which the',
    'evaluation never uses). "No data" rows need no calibration file. Size is the model file against',
    'fp32 (ISNet: its fp16 file); output SQNR against fp32 on real inputs at ONNX Runtime level `basic`;',
    `latency is the sweep's median of ${[...new Set(rows.filter((r) => r.latency).map((r) => r.latency.runs))].join(' or ') || 'a few'} runs on one input at ORT's default level on a shared`,
    '2-core machine (indicative; interleaved medians are in the README and docs/performance.md).', '');
  o.push('"Keeps the task" means: ' + Object.entries(TASK_RULES).map(([t, r]) => `${t}: ${r.text}`).join('; ') + '.',
    'The task sets are small (eval/README.md: 32 text lines, 64 line images for the direction classifier,',
    '12 pages, 10 speech clips, 3 photos), so a row that keeps the task at a low SQNR has less margin',
    'on other inputs than one with a high SQNR.', '');
  o.push('| model | goal | pipeline | size MB (× fp32) | output SQNR | task metric | ORT ms |');
  o.push('|---|---|---|---:|---:|---|---:|');
  const reproduce = [];
  for (const tid of [...new Set(rows.map((r) => r.target))]) {
    const target = models.targets.find((t) => t.id === tid);
    const picks = chooseBest(target ? target.task : tid, rows.filter((r) => r.target === tid));
    for (const { goals, row } of picks) {
      const pipe = row.pipeline ? `\`${userPipeline(row, target, configs, models)}\`` : '(the model as shipped)';
      const lat = row.latency ? row.latency.median_ms.toFixed(1) : '';
      o.push(`| ${tid} | ${goals.join('; ')} | ${pipe} | ${mb(row.bytes).toFixed(3)} (${row.ratio.toFixed(3)}) | ${sqnrCell(row)} | ${metricShort(row)} | ${lat} |`);
    }
    if (picks.length) reproduce.push(`- ${tid}: \`scripts/eval.sh --targets ${tid} --configs ${picks.map((p) => p.row.config).join(',')} --out-dir /tmp/check\``);
  }
  o.push('', '## Reproduce', '');
  o.push('Each command re-measures one model\'s rows above (fp32 is the reference of every figure;',
    '`--out-dir` keeps docs/ as it is). The onnx-opt build and date behind each figure are in',
    `[${SWEEP}](${SWEEP}).`, '', ...reproduce, '');
  for (const sec of (meta.sections || []).filter((s) => s.page !== 'sweep')) o.push(`## ${sec.title}`, '', sec.text, '');
  o.push('## Plots', '');
  o.push('Size (log scale) against output SQNR and against the task metric, every configuration of the',
    'sweep; the line joins the best trade-offs (no other configuration is both smaller and better),',
    'labelled points are the rows above and the other best trade-offs.', '');
  for (const tid of [...new Set(rows.map((r) => r.target))]) o.push(`![${tid}](plots/${tid}.svg)`, '');
  o.push('## Every configuration', '');
  o.push(`[${SWEEP}](${SWEEP}) lists all ${rows.length} runs (${new Set(rows.map((r) => r.config)).size} configurations),`,
    'with cosine, quantization time, the commands and onnx-opt builds that produced them, and the',
    'studies behind these choices.', '');
  return o.join('\n');
}

function sweepMarkdown(cmd, rows, meta) {
  const o = [];
  o.push('# onnx-opt evaluation: every configuration', '');
  o.push(`The full sweep behind [${SUMMARY}](${SUMMARY}) (the summary of what to run), written by`, '`scripts/eval.sh` with it. Produced by:', '', '```', cmd, '```', '');
  // The binary as recorded (relative to the repository when relative): resolving it here would put
  // the checkout's own location into the page, so another clone would render a different page.
  const bin = meta.onnxOpt;
  for (const n of meta.notes || []) o.push(n, '');
  o.push(`Date: ${meta.date}. ONNX Runtime ${meta.ort} (onnxruntime-node), ${meta.cpus} CPU cores (shared machine: latency is indicative only). onnx-opt: \`${bin}\`.`, '');
  if (meta.merged && meta.merged.length) {
    o.push('Rows replaced or added by later runs (their own command, date and onnx-opt):', '');
    for (const m of meta.merged) {
      o.push(`- ${m.date}: \`${m.command}\` (onnx-opt \`${m.onnxOpt}\`): ${m.rows.join(', ')}`);
    }
    o.push('');
  }
  o.push('Fidelity (SQNR, cosine, task metric) is measured at ORT graph optimization level `basic` against the fp32 model\'s outputs on the same real inputs; latency is the median of several runs at ORT\'s default level on one input. Size is the sum of the model files. "onnx-opt s" is the quantization run; the opset upgrade (when needed) is timed separately.', '');
  for (const t of [...new Set(rows.map((r) => r.target))]) {
    o.push(`## ${t}`, '');
    if (meta.descriptions && meta.descriptions[t]) o.push(meta.descriptions[t], '');
    o.push(`![${t}](plots/${t}.svg)`, '');
    o.push('| config | size MB | ratio | SQNR dB | cosine | task metric | ORT ms (median) | onnx-opt s | upgrade s |');
    o.push('|---|---:|---:|---:|---:|---|---:|---:|---:|');
    const errs = [];
    for (const r of rows.filter((x) => x.target === t)) {
      if (r.error) {
        let k = errs.indexOf(r.error);
        if (k < 0) { errs.push(r.error); k = errs.length - 1; }
        o.push(`| ${r.config} | | | | | error [${k + 1}] | | | |`);
        continue;
      }
      const f = r.fidelity || {};
      const sq = f.sqnr_db === 999 ? 'exact' : (f.sqnr_db ?? '');
      o.push(`| ${r.config} | ${mb(r.bytes).toFixed(3)} | ${r.ratio.toFixed(3)} | ${sq} | ${f.cosine ?? ''} | ${metricCell(r)} | ${r.latency ? r.latency.median_ms.toFixed(2) : ''} | ${r.onnx_opt_s != null ? r.onnx_opt_s.toFixed(2) : ''} | ${r.upgrade_s != null ? r.upgrade_s.toFixed(2) : ''} |`);
    }
    if (errs.length) o.push('', ...errs.map((e, i) => `[${i + 1}] ${e.replace(/\|/g, '/')}`).flatMap((l) => [l, '']));
    o.push('');
  }
  for (const sec of (meta.sections || []).filter((s) => s.page === 'sweep')) o.push(`## ${sec.title}`, '', sec.text, '');
  if (meta.checks && meta.checks.length) {
    o.push('## Threshold checks', '');
    for (const c of meta.checks) o.push(`- ${c}`);
    o.push('');
  }
  return o.join('\n');
}

// Both pages and one plot per target into outDir (tail: appended to both pages, e.g. "partial").
function writePages(outDir, cmd, rows, meta, tail = '') {
  const { svgPlot } = require('./plot.js');
  fs.mkdirSync(path.join(outDir, 'plots'), { recursive: true });
  fs.writeFileSync(path.join(outDir, SUMMARY), summaryMarkdown(rows, meta) + tail);
  fs.writeFileSync(path.join(outDir, SWEEP), sweepMarkdown(cmd, rows, meta) + tail);
  const models = readJson('models.json');
  for (const t of [...new Set(rows.map((r) => r.target))]) {
    const target = models.targets.find((x) => x.id === t);
    const task = target ? target.task : t;
    const trs = rows.filter((r) => r.target === t);
    const labelled = new Set(chooseBest(task, trs).map((p) => p.row.config));
    fs.writeFileSync(path.join(outDir, 'plots', `${t}.svg`), svgPlot(t, trs, { labelled, metricLowerIsBetter: Boolean((TASK_RULES[task] || {}).lowerIsBetter) }));
  }
}

module.exports = { SUMMARY, SWEEP, TASK_RULES, keepsTask, chooseBest, userPipeline, metricCell, metricShort, summaryMarkdown, sweepMarkdown, writePages };

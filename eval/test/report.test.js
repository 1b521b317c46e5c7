// Tests of the evaluation's pages (eval/report.js, eval/plot.js): the summary / sweep split, the
// choice of the best configuration per goal, the plots, and that docs/results.md,
// docs/results-sweep.md and docs/plots/*.svg are exactly what the generator renders from
// docs/results.json (a hand edit or a stale page fails here: put Markdown into results.json's
// "sections" and re-render with node eval/evaluate.js --replot docs/results.json).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { chooseBest, summaryMarkdown, sweepMarkdown, userPipeline, SWEEP } = require('../report.js');
const { svgPlot, frontier, logTicks } = require('../plot.js');

const DOCS = path.resolve(__dirname, '..', '..', 'docs');
const results = JSON.parse(fs.readFileSync(path.join(DOCS, 'results.json'), 'utf8'));

const row = (config, ratio, sqnr, cer, pipeline = `quantize-weights{${config}}`) => ({
  target: 'ocr-rec', config, config_label: config, pipeline: config === 'fp32' ? null : pipeline,
  bytes: ratio * 1e7, ratio, fidelity: { sqnr_db: sqnr, cosine: 1 }, metric: { name: 'CER', value: cer },
  latency: { median_ms: 10, runs: 7 },
});

test('docs/results.md, results-sweep.md and the plots are what eval/evaluate.js renders from docs/results.json', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'report-'));
  const r = spawnSync(process.execPath, [path.join(__dirname, '..', 'evaluate.js'), '--replot', path.join(DOCS, 'results.json'), '--out-dir', dir], { encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stderr);
  const files = ['results.md', SWEEP, ...fs.readdirSync(path.join(dir, 'plots')).map((f) => `plots/${f}`)];
  assert.ok(files.length >= 2 + new Set(results.rows.map((x) => x.target)).size, files.join(' '));
  for (const f of files) {
    assert.ok(fs.existsSync(path.join(DOCS, f)), `docs/${f} missing: run node eval/evaluate.js --replot docs/results.json`);
    assert.ok(fs.readFileSync(path.join(dir, f), 'utf8') === fs.readFileSync(path.join(DOCS, f), 'utf8'),
      `docs/${f} is not what the generator renders from docs/results.json (edit results.json "sections", then node eval/evaluate.js --replot docs/results.json)`);
  }
  fs.rmSync(dir, { recursive: true });
});

test('the summary keeps the chosen rows and the sweep every row; sections go to their page', () => {
  const meta = { ...results, descriptions: {} };
  const summary = summaryMarkdown(results.rows, meta);
  const sweep = sweepMarkdown(results.command, results.rows, meta);
  assert.ok(summary.includes(`(${SWEEP})`), 'the summary links the sweep');
  assert.ok(!summary.includes('| config | size MB | ratio |'), 'no per-configuration sweep table in the summary');
  // The summary's own table: the part before the first results.json section (sections such as
  // the OpenCV one have tables of their own whose rows also start with a model id).
  const firstSection = Math.min(...results.sections.map((s) => summary.indexOf(`## ${s.title}\n`)).filter((i) => i >= 0), summary.length);
  const tableRows = summary.slice(0, firstSection).split('\n').filter((l) => /^\| (ocr|wake|isnet)/.test(l));
  assert.ok(tableRows.length > 5 && tableRows.length < results.rows.length / 3, `${tableRows.length} summary rows`);
  for (const r of results.rows) assert.ok(sweep.includes(`| ${r.config} |`), `sweep lacks ${r.target}/${r.config}`);
  // Every reproduce command names configurations the sweep has, fp32 first.
  const cmds = summary.match(/scripts\/eval\.sh --targets [^`]*/g);
  assert.strictEqual(cmds.length, new Set(results.rows.map((r) => r.target)).size);
  for (const c of cmds) {
    const [, t, cs] = c.match(/--targets (\S+) --configs (\S+)/);
    assert.strictEqual(cs.split(',')[0], 'fp32');
    for (const id of cs.split(',')) assert.ok(results.rows.some((r) => r.target === t && r.config === id && !r.error), `${t}/${id}`);
  }
  for (const s of results.sections) {
    const [inPage, notIn] = s.page === 'sweep' ? [sweep, summary] : [summary, sweep];
    assert.ok(inPage.includes(`## ${s.title}\n`) && !notIn.includes(`## ${s.title}\n`), s.title);
  }
  assert.ok(summary.includes('## Integer inference\n'), 'the place of the integer-inference section');
});

test('chooseBest: the smallest row that keeps the task, data rows only where they beat plain rounding', () => {
  const rows = [
    row('fp32', 1, 999, 0),
    row('int8', 0.28, 23, 0),
    row('int4', 0.175, 9, 0.016),
    row('int4-b128', 0.149, 1.8, 0.87),
    row('int4-gptq', 0.175, 16.8, 0, 'quantize-weights{calibration=@CALIBRATION@}'),
    row('int8-gptq', 0.281, 22, 0, 'quantize-weights{calibration=@CALIBRATION@}'),
  ];
  const picks = chooseBest('ocr-rec', rows);
  const goal = (g) => (picks.find((p) => p.goals.includes(g)) || {}).row?.config;
  assert.strictEqual(goal('reference'), 'fp32');
  assert.strictEqual(goal('smallest that keeps the task, no data'), 'int8');
  assert.strictEqual(goal('smallest that keeps the task'), 'int4-gptq');
  assert.strictEqual(goal('most accurate at int4 size, no data'), 'int4');
  assert.strictEqual(goal('most accurate at int4 size'), 'int4-gptq');
  assert.strictEqual(goal('most accurate at int8 size'), undefined, 'int8-gptq is worse than int8');
  assert.ok(!picks.some((p) => p.row.config === 'int4-b128'), 'breaks the task, not smallest at int4 size');
  assert.strictEqual(new Set(picks.map((p) => p.row)).size, picks.length, 'one table row per configuration');
});

test('userPipeline: the opset upgrade the harness adds and a file for the placeholders', () => {
  const configs = { upgrade: { pipeline: 'upgrade-opset{target=21}', below_opset: 21 }, configs: [{ id: 'g', pipeline: 'q{calibration=@CALIBRATION@,sensitivity=@SENSITIVITY@}', upgrade: true }] };
  const models = { models: [{ id: 'old', opset: 11 }, { id: 'new', opset: 21 }] };
  assert.strictEqual(userPipeline({ config: 'g' }, { members: ['old'] }, configs, models), 'upgrade-opset{target=21},q{calibration=model.calib,sensitivity=model.calib}');
  assert.strictEqual(userPipeline({ config: 'g' }, { members: ['new'] }, configs, models), 'q{calibration=model.calib,sensitivity=model.calib}');
});

test('plots: log size axis, both panels, the frontier, labels only for the chosen points', () => {
  assert.deepStrictEqual(logTicks(0.09, 11), [0.1, 0.2, 0.5, 1, 2, 5, 10]);
  const pts = [{ x: 1, y: 5 }, { x: 2, y: 4 }, { x: 3, y: 9 }, { x: 0.5, y: 1 }];
  assert.deepStrictEqual(frontier(pts, (a, b) => a > b).map((p) => p.x), [0.5, 1, 3]);
  const rows = [row('fp32', 1, 999, 0), row('a', 0.1, 20, 0), row('b', 0.01, 5, 0.5), row('c', 0.1, 10, 0.2)];
  const svg = svgPlot('t', rows, { labelled: ['a'], metricLowerIsBetter: true });
  // b (0.1 MB), a and c (1 MB), fp32 (10 MB): equal steps on a log axis.
  const xs = [...new Set([...svg.matchAll(/<circle cx="([0-9.]+)"/g)].map((m) => +m[1]))].sort((p, q) => p - q);
  assert.strictEqual(xs.length, 3, xs.join(' '));
  assert.ok(Math.abs((xs[1] - xs[0]) - (xs[2] - xs[1])) < 0.5, xs.join(' '));
  for (const id of ['a', 'b', 'fp32']) assert.ok(svg.includes(`>${id}</text>`), `label ${id}`);
  assert.match(svg, /task metric: CER \(lower is better\)/);
  assert.match(svg, /log scale/);
  assert.ok(!/>c<\/text>/.test(svg), 'c is dominated by a and not chosen: no label');
  assert.strictEqual((svg.match(/<polyline/g) || []).length, 2, 'a frontier line in each panel');
});

test('scripts/quickstart.sh runs the configuration docs/results.md shows as best at int4 size for ocr-cls', () => {
  const script = fs.readFileSync(path.resolve(__dirname, '..', '..', 'scripts', 'quickstart.sh'), 'utf8');
  const pipeline = script.match(/^pipeline='([^']*)'$/m)[1];
  const pick = chooseBest('ocr-cls', results.rows.filter((r) => r.target === 'ocr-cls'))
    .find((p) => p.goals.includes('most accurate at int4 size, no data'));
  const configs = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'configs.json'), 'utf8'));
  const models = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'models.json'), 'utf8'));
  assert.strictEqual(pipeline, userPipeline(pick.row, models.targets.find((t) => t.id === 'ocr-cls'), configs, models));
});

test('bench/latency.mjs refuses fewer than 7 rounds and a missing baseline, naming them', () => {
  const tool = path.resolve(__dirname, '..', '..', 'bench', 'latency.mjs');
  const few = spawnSync(process.execPath, [tool, '--set', 'ocr-rec', '--runs', '3', 'a.onnx', 'b.onnx'], { encoding: 'utf8' });
  assert.strictEqual(few.status, 2);
  assert.match(few.stderr, /^latency: error: --runs must be an integer >= 7, not 3\n$/);
  const missing = spawnSync(process.execPath, [tool, '--set', 'ocr-rec', '/nonexistent/a.onnx', __filename], { encoding: 'utf8' });
  assert.strictEqual(missing.status, 2);
  assert.match(missing.stderr, /^latency: error: \/nonexistent\/a\.onnx: no such file\n$/);
});

test('the pages do not depend on where the checkout is (CI renders them from another directory)', () => {
  const meta = { ...results, onnxOpt: '../../tmp/x/onnx-opt', merged: [{ date: 'd', command: 'c', onnxOpt: '../y/onnx-opt', rows: ['r'] }] };
  const sweep = sweepMarkdown(results.command, results.rows, meta);
  assert.ok(sweep.includes('onnx-opt: `../../tmp/x/onnx-opt`') && sweep.includes('(onnx-opt `../y/onnx-opt`)'), 'recorded paths kept as recorded');
  assert.ok(!sweep.includes(path.resolve(__dirname, '..', '..')), 'the checkout directory leaked into the page');
});

'use strict';
// evaluate.js's threshold gate: every expected configuration is checked, none goes missing.
const test = require('node:test');
const assert = require('node:assert');
const { checkThresholds } = require('../evaluate.js');

const job = (t, c) => ({ t: { id: t }, c: { id: c } });
const row = (t, c, sqnr) => ({ target: t, config: c, fidelity: { sqnr_db: sqnr, cosine: 1 }, metric: { name: 'accuracy', value: 1 }, ratio: 0.3 });
const thresholds = {
  _comment: 'notes are not configurations',
  a: { fp32: { metric_min: 1 }, q: { sqnr_db_min: 20, _measured: { sqnr_db: 21 } } },
};

test('all configurations present and above their floors pass', () => {
  const r = checkThresholds([row('a', 'fp32', 999), row('a', 'q', 20.5)], thresholds, [job('a', 'fp32'), job('a', 'q')], true);
  assert.deepStrictEqual(r.fails, []);
  assert.deepStrictEqual(r.checked, ['a/fp32', 'a/q']);
});

test('a figure below its floor fails', () => {
  const r = checkThresholds([row('a', 'fp32', 999), row('a', 'q', 19.9)], thresholds, [job('a', 'fp32'), job('a', 'q')], true);
  assert.deepStrictEqual(r.fails, ['a/q: SQNR 19.9 dB < 20']);
});

test('a configuration dropped from the quick set fails', () => {
  const r = checkThresholds([row('a', 'fp32', 999)], thresholds, [job('a', 'fp32')], true);
  assert.deepStrictEqual(r.fails, ['a/q: in eval/thresholds.json but not run (dropped from configs.json "quick"?)']);
});

test('a quick configuration without a threshold fails', () => {
  const jobs = [job('a', 'fp32'), job('a', 'q'), job('a', 'new')];
  const r = checkThresholds([row('a', 'fp32', 999), row('a', 'q', 21), row('a', 'new', 1)], thresholds, jobs, true);
  assert.deepStrictEqual(r.fails, ['a/new: run but not in eval/thresholds.json (unchecked)']);
});

test('a job that produced no row fails', () => {
  const r = checkThresholds([row('a', 'fp32', 999)], thresholds, [job('a', 'fp32'), job('a', 'q')], false);
  assert.deepStrictEqual(r.fails, ['a/q: no result']);
});

test('an explicit selection checks only what it ran', () => {
  const r = checkThresholds([row('a', 'q', 21)], thresholds, [job('a', 'q')], false);
  assert.deepStrictEqual(r.fails, []);
  assert.deepStrictEqual(r.checked, ['a/q']);
});

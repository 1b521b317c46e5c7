// Tests of eval/activations.js's run selection and feed recording (no models, no ORT run).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { spacedRuns, recordingSession, feedArrays } = require('../activations.js');

test('spacedRuns keeps every run up to the limit, then an even spread', () => {
  assert.deepStrictEqual([...spacedRuns(3, 0)], [0, 1, 2]);
  assert.deepStrictEqual([...spacedRuns(3, 5)], [0, 1, 2]);
  const s = [...spacedRuns(100, 4)];
  assert.deepStrictEqual(s, [12, 37, 62, 87]);
});

test('recordingSession records each run\'s feeds and returns the runtime\'s outputs', async () => {
  const calls = [];
  const fake = {
    inputNames: ['x'], outputNames: ['y'], inputMetadata: [{ shape: [1, 16, 96] }],
    async run(feeds, fetches) { calls.push(fetches); return { y: { x: feeds.x } }; },
  };
  const seen = [];
  const s = recordingSession(fake, (feeds) => seen.push(feeds.x));
  assert.deepStrictEqual(s.outputNames, ['y']);
  assert.deepStrictEqual(s.inputMetadata, fake.inputMetadata);
  assert.strictEqual((await s.run({ x: 3 })).y.x, 3);
  await s.run({ x: 4 }, ['y']);
  assert.deepStrictEqual(seen, [3, 4]);
  assert.deepStrictEqual(calls, [undefined, ['y']]);
  const a = feedArrays({ x: { type: 'int64', dims: [1n, 2n], data: BigInt64Array.from([1n, 2n]) } });
  assert.deepStrictEqual(a.x.dims, [1, 2]);
});

test('evaluate.js mergeRows: replaces same target/config, inserts new configs in order, keeps the rest', () => {
  const { mergeRows } = require('../evaluate.js');
  const row = (target, config, v) => ({ target, config, v });
  const base = [row('a', 'fp32', 1), row('a', 'int8', 1), row('a', 'int4', 1), row('a', 'nbits', 1), row('b', 'fp32', 1), row('b', 'int4', 1)];
  const order = ['fp32', 'int8', 'int4', 'int4-gptq', 'nbits'];
  const got = mergeRows(base, [row('a', 'int4', 2), row('a', 'int4-gptq', 2), row('b', 'int4-gptq', 2), row('c', 'int4', 2)], order);
  assert.deepStrictEqual(got.map((r) => `${r.target}/${r.config}/${r.v}`), [
    'a/fp32/1', 'a/int8/1', 'a/int4/2', 'a/int4-gptq/2', 'a/nbits/1', 'b/fp32/1', 'b/int4/1', 'b/int4-gptq/2', 'c/int4/2']);
  assert.strictEqual(base[2].v, 1, 'the base rows are not modified');
});

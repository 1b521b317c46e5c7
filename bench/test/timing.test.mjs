// The paired speed ratio of bench/lib/timing.mjs (speed.mjs's "paired" column).
import test from 'node:test';
import assert from 'node:assert/strict';
import { pairedRatio, median } from '../lib/timing.mjs';

test('pairedRatio is the median of the per-pass ratios, not the ratio of the medians', () => {
  // Load drifts: each pass is slower than the one before, B always half of A within a pass.
  const a = [10, 20, 40, 80, 160];
  const b = [5, 10, 20, 40, 80];
  assert.equal(pairedRatio(a, b), 2);
  // One pass where B was preempted: the median of ratios ignores it.
  const b2 = [5, 10, 200, 40, 80];
  assert.equal(pairedRatio(a, b2), 2);
  // Where the two estimators differ: A's slow passes are not B's.
  const a3 = [10, 10, 10, 100, 100];
  const b3 = [50, 50, 5, 5, 5];
  assert.equal(median(a3) / median(b3), 2);
  assert.equal(pairedRatio(a3, b3), 2);
  const b4 = [5, 5, 50, 50, 50];
  assert.equal(median(a3) / median(b4), 0.2);
  assert.equal(pairedRatio(a3, b4), 2);
});

test('pairedRatio refuses series of different lengths', () => {
  assert.throws(() => pairedRatio([1, 2], [1]), /equally long/);
  assert.throws(() => pairedRatio([], []), /non-empty/);
});

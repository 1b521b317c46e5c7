// Tests of eval/det-metric.js (the ocr-det box metric) on small synthetic probability maps, and
// of how run.js and evaluate.js report it. No model, no ORT run.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { components, unclip, detBoxes, boxIoU, matchBoxes, prf, detSetMetric, detSummary } = require('../det-metric.js');

// A w x h map from rows of characters: '#' = 0.9, '=' = 0.5, '+' = 0.3, '-' = 0.29, '.' = 0.
function map(rows) {
  const h = rows.length, w = rows[0].length;
  const v = { '#': 0.9, '=': 0.5, '+': 0.3, '-': 0.29, '.': 0 };
  const m = new Float32Array(w * h);
  rows.forEach((r, y) => [...r].forEach((c, x) => { m[y * w + x] = v[c]; }));
  return { m, w, h };
}
const comps = (rows) => { const { m, w, h } = map(rows); return components((i) => m[i] >= 0.3, w, h); };
const near = (a, b, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

test('components: diagonal neighbours join (8-connectivity), gaps separate', () => {
  const c = comps([
    '#.....',
    '.#..##',
    '..#...',
    '......',
    '#.....',
  ]);
  assert.strictEqual(c.length, 3);
  assert.deepStrictEqual(c[0], { x0: 0, y0: 0, x1: 3, y1: 3, pixels: 3 }); // the diagonal
  assert.deepStrictEqual(c[1], { x0: 4, y0: 1, x1: 6, y1: 2, pixels: 2 });
  assert.deepStrictEqual(c[2], { x0: 0, y0: 4, x1: 1, y1: 5, pixels: 1 });
});

test('components: a U joined only at the bottom is one component (not split in raster order)', () => {
  const c = comps([
    '#...#',
    '#...#',
    '#.#.#',
    '#####',
  ]);
  assert.strictEqual(c.length, 1);
  assert.deepStrictEqual(c[0], { x0: 0, y0: 0, x1: 5, y1: 4, pixels: 12 });
});

test('components: anti-diagonal contact and the threshold is inclusive', () => {
  const c = comps([
    '..+',
    '.+.',
    '-..',
  ]);
  assert.strictEqual(c.length, 1);
  assert.deepStrictEqual(c[0], { x0: 1, y0: 0, x1: 3, y1: 2, pixels: 2 }); // 0.29 stays out
});

test('components: a map entirely above the threshold (no recursion depth limit)', () => {
  const w = 700, h = 600;
  const all = components(() => true, w, h);
  assert.deepStrictEqual(all, [{ x0: 0, y0: 0, x1: w, y1: h, pixels: w * h }]);
  // A one-pixel-wide serpentine path: every pixel is in one long chain.
  const snake = (i) => { const x = i % w, y = (i - x) / w; return y % 2 === 0 || (y % 4 === 1 ? x === w - 1 : x === 0); };
  const s = components(snake, w, h);
  assert.strictEqual(s.length, 1);
  assert.strictEqual(s[0].pixels, (h / 2) * w + h / 2);
});

test('unclip: offset area*ratio/perimeter on every side, clipped to the image', () => {
  const d = (10 * 4 * 1.5) / 28;
  const b = unclip([20, 20, 30, 24], 1.5, 100, 100);
  [20 - d, 20 - d, 30 + d, 24 + d].forEach((v, i) => near(b[i], v));
  const e = (20 * 1.5) / 28; // a given area (the component's pixels)
  const c = unclip([20, 20, 30, 24], 1.5, 100, 100, 20);
  [20 - e, 20 - e, 30 + e, 24 + e].forEach((v, i) => near(c[i], v));
  assert.deepStrictEqual(unclip([0, 0, 10, 4], 1.5, 11, 5), [0, 0, 11, 5]);
});

test('detBoxes: drops components under minPixels, box edges, unclip 0 keeps the component box', () => {
  const { m, w, h } = map([
    '..........',
    '.####.....',
    '.####...#.',
    '..........',
  ]);
  assert.deepStrictEqual(detBoxes(m, w, h, { minPixels: 2, unclipRatio: 0 }), [[1, 1, 5, 3]]);
  assert.deepStrictEqual(detBoxes(m, w, h, { minPixels: 1, unclipRatio: 0 }), [[1, 1, 5, 3], [8, 2, 9, 3]]);
  assert.deepStrictEqual(detBoxes(m, w, h, { minPixels: 9, unclipRatio: 0 }), []);
  const d = (4 * 2 * 1.5) / 12; // 1.0
  assert.deepStrictEqual(detBoxes(m, w, h, { minPixels: 2 }), [[1 - d, 1 - d, 5 + d, 3 + d]]);
  assert.deepStrictEqual(detBoxes(m, w, h, { minPixels: 2, threshold: 0.95, unclipRatio: 0 }), []);
  // The threshold is inclusive: 0.5 is text at 0.5 (exact in float32), 0.29 is not text at 0.3.
  const t = map([
    '-++-',
    '.==.',
  ]);
  assert.deepStrictEqual(detBoxes(t.m, t.w, t.h, { minPixels: 1, unclipRatio: 0 }), [[1, 0, 3, 2]]);
  assert.deepStrictEqual(detBoxes(t.m, t.w, t.h, { minPixels: 1, unclipRatio: 0, threshold: 0.5 }), [[1, 1, 3, 2]]);
  assert.deepStrictEqual(detBoxes(t.m, t.w, t.h, { minPixels: 1, unclipRatio: 0, threshold: 0.28 }), [[0, 0, 4, 2]]);
  assert.throws(() => detBoxes(m, w + 1, h), /40 values, not 11x4/);
  // A slanted stroke: unclip uses its 6 pixels as the area, not its 6x2 box's 12 pixels, so
  // slanted text is not grown by the empty corners of its axis-aligned box.
  const s = map([
    '.........',
    '.##......',
    '...##....',
    '.....##..',
    '.........',
  ]);
  const ds = (6 * 1.5) / (2 * (6 + 3));
  const got = detBoxes(s.m, s.w, s.h, { minPixels: 2 });
  assert.strictEqual(got.length, 1);
  [1 - ds, 1 - ds, 7 + ds, 4 + ds].forEach((v, i) => near(got[0][i], v));
});

test('boxIoU: overlap, containment, touching and disjoint boxes', () => {
  near(boxIoU([0, 0, 10, 10], [5, 0, 15, 10]), 50 / 150);
  near(boxIoU([0, 0, 10, 10], [2, 2, 7, 7]), 25 / 100);
  assert.strictEqual(boxIoU([0, 0, 10, 10], [0, 0, 10, 10]), 1);
  assert.strictEqual(boxIoU([0, 0, 10, 10], [10, 0, 20, 10]), 0);
  assert.strictEqual(boxIoU([0, 0, 10, 10], [30, 30, 40, 40]), 0);
});

test('matchBoxes: one-to-one, best IoU first, threshold inclusive', () => {
  // Overlapping truths T0, T1. F0 equals T1 (IoU 1) but also overlaps T0 (0.667); F1 overlaps
  // only T0 (0.538). Giving F0 its first match (T0) would leave F1 unmatched; best-first pairs
  // F0-T1 and F1-T0.
  const T0 = [0, 0, 10, 10], T1 = [2, 0, 12, 10];
  const F0 = [2, 0, 12, 10], F1 = [-3, 0, 7, 10];
  let r = matchBoxes([F0, F1], [T0, T1]);
  assert.strictEqual(r.tp, 2);
  assert.deepStrictEqual(r.pairs.map((p) => [p[0], p[1]]), [[0, 1], [1, 0]]);
  near(r.pairs[1][2], 70 / 130);
  // Two found boxes competing for one truth: only the better one (IoU 0.6 over 0.55) gets it.
  const L = [0, 0, 100, 10];
  r = matchBoxes([[0, 0, 55, 10], [0, 0, 60, 10]], [L]);
  assert.strictEqual(r.tp, 1);
  assert.deepStrictEqual(r.pairs.map((p) => [p[0], p[1]]), [[1, 0]]);
  // One found box covering two lines matches at most one of them.
  r = matchBoxes([[0, 0, 100, 22]], [[0, 0, 100, 10], [0, 12, 100, 22]], 0.3);
  assert.strictEqual(r.tp, 1);
  // IoU exactly 0.5 matches, just below does not; the threshold argument is used.
  assert.strictEqual(matchBoxes([[0, 0, 50, 10]], [L]).tp, 1);
  assert.strictEqual(matchBoxes([[0, 0, 49, 10]], [L]).tp, 0);
  assert.strictEqual(matchBoxes([[0, 0, 49, 10]], [L], 0.4).tp, 1);
  assert.strictEqual(matchBoxes([], [L]).tp, 0);
});

test('prf: precision, recall, F1 and the empty cases', () => {
  const p = prf(3, 4, 6);
  near(p.precision, 0.75); near(p.recall, 0.5); near(p.f1, 0.6);
  assert.deepStrictEqual(prf(0, 0, 0), { precision: 1, recall: 1, f1: 1 });
  assert.deepStrictEqual(prf(0, 2, 0), { precision: 0, recall: 1, f1: 0 });
  assert.deepStrictEqual(prf(0, 0, 3), { precision: 0, recall: 0, f1: 0 });
});

// Two items of 12 x 40 maps. fp32 finds two lines in each; the quantized model merges the two
// lines of item 0 into one component, and in item 1 finds one line 2 pixels short (IoU 22/24),
// loses the other and finds a spurious blob.
const LINE_A = '..########################..............';
function item(rows) { const { m, w, h } = map(rows); return { main: m, dims: [1, 1, h, w] }; }
const blank = '.'.repeat(40);
const ref0 = item([blank, LINE_A.slice(0, 40), LINE_A.slice(0, 40), blank, LINE_A.slice(0, 40), LINE_A.slice(0, 40), blank, blank, blank, blank, blank, blank]);
const q0 = item([blank, LINE_A.slice(0, 40), LINE_A.slice(0, 40), LINE_A.slice(0, 40), LINE_A.slice(0, 40), LINE_A.slice(0, 40), blank, blank, blank, blank, blank, blank]);
const ref1 = item([blank, LINE_A.slice(0, 40), LINE_A.slice(0, 40), blank, blank, blank, blank, blank, blank, '....######..........', blank, blank].map((r) => r.padEnd(40, '.')));
const SHORT = '....######################..............'; // columns 4..25 of LINE_A's 2..25
const q1 = item([blank, SHORT.slice(0, 40), SHORT.slice(0, 40), blank, blank, blank, blank, '..............................###', '..............................###', blank, blank, blank].map((r) => r.padEnd(40, '.')));

test('detSetMetric: box F1 vs fp32 counts merged and lost lines, summed over items', () => {
  const items = [{ file: 'a.f32' }, { file: 'b.f32' }];
  const opts = { minPixels: 4, unclipRatio: 0 };
  const self = detSetMetric([ref0, ref1], null, items, opts);
  assert.strictEqual(self.box_f1_vs_fp32, 1);
  assert.strictEqual(self.boxes, 4);
  const m = detSetMetric([q0, q1], [ref0, ref1], items, opts);
  // item 0: 1 merged box vs 2 (IoU of the merged box with either line: 48/120 < 0.5): 0 matched;
  // item 1: 2 boxes vs 2, 1 matched. Counts summed: F1 = 2*1 / (3 + 4) (the mean of the items'
  // F1, (0 + 0.5) / 2, would differ).
  assert.strictEqual(m.boxes, 3);
  assert.strictEqual(m.boxes_fp32, 4);
  assert.strictEqual(m.box_f1_vs_fp32, +(2 / 7).toFixed(4));
  assert.strictEqual(m.box_iou_vs_fp32, +(22 / 24).toFixed(4)); // mean over matched pairs only
  assert.strictEqual(self.box_iou_vs_fp32, 1);
  assert.deepStrictEqual(m.per_item.map((r) => r.matched_fp32), [0, 1]);
  assert.strictEqual(m.gt_recall, undefined);
});

test('detSetMetric: ground truth recall on every item, precision/F1 only where complete', () => {
  const items = [
    { file: 'page.f32', gt_complete: true, gt_boxes: [[2, 1, 26, 3], [2, 4, 26, 6], [30, 8, 39, 11]] },
    { file: 'photo.f32', gt_complete: false, gt_boxes: [[4, 8, 10, 11]] }, // IoU 1/3 with [4, 9, 10, 10]
    { file: 'scan.f32' },
  ];
  const opts = { minPixels: 4, unclipRatio: 0 };
  const m = detSetMetric([ref0, ref1, ref1], null, items, opts);
  // page: 2 of 3 lines found, 2 boxes; photo: its line found (plus one box the truth lacks).
  assert.strictEqual(m.gt_lines, 4);
  assert.strictEqual(m.gt_recall, 0.75);
  assert.strictEqual(m.gt_precision, 1);        // page only: 2 of 2 boxes
  assert.strictEqual(m.gt_f1, 0.8);             // 2*2 / (2 + 3)
  assert.deepStrictEqual(m.per_item.map((r) => r.gt_matched), [2, 1, undefined]);
  assert.strictEqual(detSummary(m), 'box F1 vs fp32 1 (matched IoU 1), GT recall 0.75, GT F1 0.8');
  // A map that finds nothing: recall 0.
  const none = { main: new Float32Array(480), dims: [1, 1, 12, 40] };
  const z = detSetMetric([none, none, none], [ref0, ref1, ref1], items, opts);
  assert.strictEqual(z.gt_recall, 0);
  assert.strictEqual(z.box_f1_vs_fp32, 0);
  assert.strictEqual(z.box_iou_vs_fp32, null);
  assert.strictEqual(detSummary(z), 'box F1 vs fp32 0, GT recall 0, GT F1 0');
});

test('run.js ocr-det metric: mask IoU stays the value and comes first in the results table', () => {
  const { taskMetric } = require('../run.js');
  const { markdown } = require('../evaluate.js');
  const set = { threshold: 0.3 };
  const items = [{ file: 'a.f32', gt_complete: true, gt_boxes: [[2, 1, 26, 3], [2, 4, 26, 6]] }, { file: 'b.f32' }];
  const m = taskMetric('ocr-det', set, items, [q0, q1], [ref0, ref1], {});
  assert.strictEqual(m.name, 'mask IoU@0.3 vs fp32');
  assert.ok(m.value > 0 && m.value < 1, `mask IoU ${m.value}`);
  assert.ok(m.box_f1_vs_fp32 < 1);
  assert.match(m.summary, /^box F1 vs fp32 [0-9.]+ \(matched IoU [0-9.]+\), GT recall [0-9.]+, GT F1 [0-9.]+$/);
  const row = { target: 'ocr-det', config: 'int4', bytes: 1e6, ratio: 0.2, fidelity: { sqnr_db: 20, cosine: 0.99 }, metric: m };
  const md = markdown('cmd', [row], { onnxOpt: 'x', descriptions: {}, date: 'd', ort: 'o', cpus: 2 });
  assert.ok(md.includes(`| mask IoU@0.3 vs fp32 ${m.value}, ${m.summary} |`), md);
  // isnet keeps the plain mask figure.
  const iso = taskMetric('isnet', set, items, [q0, q1], [ref0, ref1], {});
  assert.deepStrictEqual(Object.keys(iso), ['name', 'value', 'positive_fraction']);
});

// Box-level metric of the ocr-det target (PP-OCRv4 DB detector), used by run.js.
//
// DB post-processing, simplified: threshold the probability map, take 8-connected components,
// drop the small ones, give each component its axis-aligned box and expand it like DB's unclip
// (offset = area * ratio / perimeter of the box; PaddleOCR's default ratio is 1.5). Boxes of two
// models, or of a model and the ground truth, are matched one-to-one greedily by box IoU.
// A box is [x0, y0, x1, y1] in pixel edges: a component covering columns 2..4 spans x 2 to 5.
'use strict';

const DEFAULTS = { threshold: 0.3, minPixels: 10, unclipRatio: 1.5 };
// Matching IoU: vs the fp32 model's boxes (same post-processing) and vs ground truth. The ground
// truth is the glyphs' tight box, DB's unclipped box has a margin around them (fp32 on the
// evaluation set: median IoU 0.73, lowest 0.39), so ground truth is matched at a looser IoU.
const MATCH = { minIoU: 0.5, gtMinIoU: 0.3 };

// 8-connected components of the pixels where mask(i) is true, on a w x h row-major grid.
// Iterative (explicit stack), so a component as big as the image needs no recursion.
// Returns [{x0, y0, x1, y1, pixels}] in raster order of each component's first pixel.
function components(mask, w, h) {
  const label = new Int32Array(w * h); // 0 = not visited
  const stack = new Int32Array(w * h);
  const out = [];
  for (let start = 0; start < w * h; start++) {
    if (label[start] || !mask(start)) continue;
    const id = out.length + 1;
    const c = { x0: w, y0: h, x1: 0, y1: 0, pixels: 0 };
    let top = 0;
    stack[top++] = start;
    label[start] = id;
    while (top > 0) {
      const p = stack[--top];
      const x = p % w, y = (p - x) / w;
      c.pixels++;
      if (x < c.x0) c.x0 = x;
      if (x + 1 > c.x1) c.x1 = x + 1;
      if (y < c.y0) c.y0 = y;
      if (y + 1 > c.y1) c.y1 = y + 1;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if ((dx === 0 && dy === 0) || nx < 0 || nx >= w) continue;
          const q = ny * w + nx;
          if (!label[q] && mask(q)) { label[q] = id; stack[top++] = q; }
        }
      }
    }
    out.push(c);
  }
  return out;
}

// DB's unclip for an axis-aligned box: grow each side by area * ratio / perimeter, clipped to
// the w x h image. area defaults to the box's; detBoxes passes the component's pixel count,
// which for slanted text is the area of the band DB would unclip (its tilted rectangle), not of
// the taller axis-aligned box (whose area would inflate the offset several times over).
function unclip(box, ratio, w, h, area = (box[2] - box[0]) * (box[3] - box[1])) {
  const [x0, y0, x1, y1] = box;
  const bw = x1 - x0, bh = y1 - y0;
  const d = (area * ratio) / (2 * (bw + bh));
  return [Math.max(0, x0 - d), Math.max(0, y0 - d), Math.min(w, x1 + d), Math.min(h, y1 + d)];
}

// Boxes of a probability map prob (row-major, h x w): components of prob >= threshold with at
// least minPixels pixels, unclipped with unclipRatio (0: the component's own box).
function detBoxes(prob, w, h, opts = {}) {
  const o = { ...DEFAULTS, ...opts };
  if (prob.length !== w * h) throw new Error(`probability map has ${prob.length} values, not ${w}x${h}`);
  const boxes = [];
  for (const c of components((i) => prob[i] >= o.threshold, w, h)) {
    if (c.pixels < o.minPixels) continue;
    const b = [c.x0, c.y0, c.x1, c.y1];
    boxes.push(o.unclipRatio > 0 ? unclip(b, o.unclipRatio, w, h, c.pixels) : b);
  }
  return boxes;
}

function boxIoU(a, b) {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const area = (r) => (r[2] - r[0]) * (r[3] - r[1]);
  return inter / (area(a) + area(b) - inter);
}

// Greedy one-to-one matching: pairs with IoU >= minIoU, best IoU first (ties: lower index of
// `found`, then of `truth`), each box used at most once. Returns {tp, pairs: [[i, j, iou]]}.
function matchBoxes(found, truth, minIoU = 0.5) {
  const cand = [];
  found.forEach((a, i) => truth.forEach((b, j) => {
    const v = boxIoU(a, b);
    if (v >= minIoU) cand.push([i, j, v]);
  }));
  cand.sort((p, q) => q[2] - p[2] || p[0] - q[0] || p[1] - q[1]);
  const usedF = new Set(), usedT = new Set();
  const pairs = [];
  for (const [i, j, v] of cand) {
    if (usedF.has(i) || usedT.has(j)) continue;
    usedF.add(i); usedT.add(j);
    pairs.push([i, j, v]);
  }
  return { tp: pairs.length, pairs };
}

// Precision, recall and F1 from counts; an empty side with nothing to find counts as perfect.
function prf(tp, nFound, nTruth) {
  const precision = nFound ? tp / nFound : (nTruth ? 0 : 1);
  const recall = nTruth ? tp / nTruth : 1;
  const f1 = nFound + nTruth ? (2 * tp) / (nFound + nTruth) : 1;
  return { precision, recall, f1 };
}

// The ocr-det figures of a set. outs/refs: [{main: Float32Array, dims: [1, 1, H, W]}] of the
// model under test and of fp32 (refs null: the model is its own reference); items: the manifest
// entries (gt_boxes, gt_complete). Counts are summed over the items before dividing.
// GT recall counts every item with gt_boxes; GT precision/F1 only those whose ground truth is
// complete (rendered pages; photos may hold text of their own).
function detSetMetric(outs, refs, items, opts = {}) {
  const o = { ...DEFAULTS, ...MATCH, ...opts };
  let tpRef = 0, nOut = 0, nRef = 0, iouSum = 0;
  let gtTp = 0, gtN = 0, fTp = 0, fFound = 0, fTruth = 0;
  const perItem = [];
  items.forEach((it, i) => {
    const dims = outs[i].dims;
    const [h, w] = dims.slice(-2);
    const mine = detBoxes(outs[i].main, w, h, o);
    const theirs = refs ? detBoxes(refs[i].main, w, h, o) : mine;
    const m = matchBoxes(mine, theirs, o.minIoU);
    tpRef += m.tp; nOut += mine.length; nRef += theirs.length;
    for (const p of m.pairs) iouSum += p[2];
    const row = { file: it.file, boxes: mine.length, boxes_fp32: theirs.length, matched_fp32: m.tp };
    if (Array.isArray(it.gt_boxes)) {
      const g = matchBoxes(mine, it.gt_boxes, o.gtMinIoU);
      gtTp += g.tp; gtN += it.gt_boxes.length;
      if (it.gt_complete) { fTp += g.tp; fFound += mine.length; fTruth += it.gt_boxes.length; }
      row.gt_lines = it.gt_boxes.length;
      row.gt_matched = g.tp;
    }
    perItem.push(row);
  });
  const r = (v) => +v.toFixed(4);
  // box_iou_vs_fp32: mean IoU of the matched pairs, how closely the boxes that match agree.
  const res = { box_f1_vs_fp32: r(prf(tpRef, nOut, nRef).f1), box_iou_vs_fp32: tpRef ? r(iouSum / tpRef) : null, boxes: nOut, boxes_fp32: nRef };
  if (gtN) {
    res.gt_recall = r(gtTp / gtN);
    res.gt_lines = gtN;
    if (fTruth) { const p = prf(fTp, fFound, fTruth); res.gt_precision = r(p.precision); res.gt_f1 = r(p.f1); }
  }
  res.box_settings = `map >= ${o.threshold}, 8-connected, >= ${o.minPixels} px, unclip ${o.unclipRatio}; IoU >= ${o.minIoU} vs fp32, >= ${o.gtMinIoU} vs GT`;
  res.per_item = perItem;
  return res;
}

// The figures after the mask IoU in the results table's task-metric cell.
function detSummary(m) {
  let s = `box F1 vs fp32 ${m.box_f1_vs_fp32}`;
  if (m.box_iou_vs_fp32 !== null && m.box_iou_vs_fp32 !== undefined) s += ` (matched IoU ${m.box_iou_vs_fp32})`;
  if (m.gt_recall !== undefined) s += `, GT recall ${m.gt_recall}`;
  if (m.gt_f1 !== undefined) s += `, GT F1 ${m.gt_f1}`;
  return s;
}

module.exports = { DEFAULTS, MATCH, components, unclip, detBoxes, boxIoU, matchBoxes, prf, detSetMetric, detSummary };

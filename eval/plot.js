// One SVG per evaluation target (docs/plots/<target>.svg): model size on a log axis against the
// output SQNR (top panel) and against the task metric (bottom panel), every configuration as a
// point, the best trade-offs (no other point is both smaller and better) joined by a line. With
// opts.x another quantity takes the x axis (bench/speed-plot.mjs: latency, lower is better too). Only
// the summary's picks (opts.labelled) and the SQNR frontier are labelled, by configuration id (the
// tables' first column), so labels stay short and readable.
'use strict';

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const W = 760, L = 78, R = 24, PANEL = 270, GAP = 64, TOP = 46;

// Points on the frontier, smallest first: each better than every smaller point.
function frontier(pts, better) {
  const out = [];
  for (const p of [...pts].sort((a, b) => a.x - b.x || (better(a.y, b.y) ? -1 : 1))) {
    if (!out.length || better(p.y, out[out.length - 1].y)) out.push(p);
  }
  return out;
}

// Tick values 1-2-5 per decade inside [lo, hi].
function logTicks(lo, hi) {
  const pick = (ms) => {
    const ticks = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      for (const m of ms) { const v = +(m * 10 ** e).toPrecision(6); if (v >= lo && v <= hi) ticks.push(v); }
    }
    return ticks;
  };
  const ticks = pick([1, 2, 5]);
  return ticks.length >= 5 ? ticks : pick([1, 1.5, 2, 3, 5, 7]);
}

function niceStep(span) {
  const raw = span / 5, p = 10 ** Math.floor(Math.log10(raw || 1)), f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}
const fmt = (v) => String(+v.toPrecision(3));

// One panel: grid, axes, frontier line, points and labels. pts: {x, y, label, ref, top}.
function panel(o, pts, { y0, title, yLabel, sx, xTicks, better, labelled, topText }) {
  const ys = pts.filter((p) => !p.top).map((p) => p.y);
  let lo = ys.length ? Math.min(...ys) : 0, hi = ys.length ? Math.max(...ys) : 1;
  if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
  const step = niceStep(hi - lo);
  const yMin = Math.floor(lo / step) * step;
  const yMax = Math.ceil(hi / step) * step + (pts.some((p) => p.top) ? step : 0);
  pts.forEach((p) => { if (p.top) p.y = yMax; });
  const sy = (y) => y0 + (1 - (y - yMin) / (yMax - yMin)) * PANEL;
  o.push(`<text x="${L}" y="${y0 - 10}" font-size="13" font-weight="bold">${esc(title)}</text>`);
  for (const xv of xTicks) {
    o.push(`<line x1="${sx(xv).toFixed(1)}" y1="${y0}" x2="${sx(xv).toFixed(1)}" y2="${y0 + PANEL}" stroke="#e6e6e6"/>`);
    o.push(`<text x="${sx(xv).toFixed(1)}" y="${y0 + PANEL + 15}" text-anchor="middle">${fmt(xv)}</text>`);
  }
  for (let yv = yMin; yv <= yMax + step / 1e6; yv += step) {
    const Y = sy(yv).toFixed(1);
    o.push(`<line x1="${L}" y1="${Y}" x2="${W - R}" y2="${Y}" stroke="#e6e6e6"/>`);
    const text = Math.abs(yv - yMax) < step / 1e6 && topText ? topText : fmt(yv);
    o.push(`<text x="${L - 6}" y="${(+Y + 4).toFixed(1)}" text-anchor="end">${esc(text)}</text>`);
  }
  o.push(`<rect x="${L}" y="${y0}" width="${W - L - R}" height="${PANEL}" fill="none" stroke="#333"/>`);
  const cy = y0 + PANEL / 2;
  o.push(`<text x="20" y="${cy}" text-anchor="middle" font-size="12" transform="rotate(-90 20 ${cy})">${esc(yLabel)}</text>`);
  const front = frontier(pts, better);
  if (front.length > 1) o.push(`<polyline fill="none" stroke="#2a9d8f" stroke-width="1.6" points="${front.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ')}"/>`);
  const named = pts.filter((p) => labelled.has(p.id) || (labelled.frontier && front.includes(p)));
  for (const p of pts.filter((q) => !named.includes(q))) o.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3" fill="#b8b8b8"/>`);
  // Labels: the first free spot right/left, above/below, then further away with a leader line.
  const boxes = pts.map((p) => ({ x0: sx(p.x) - 4, x1: sx(p.x) + 4, y0: sy(p.y) - 4, y1: sy(p.y) + 4 }));
  const hit = (b) => boxes.some((q) => b.x0 < q.x1 && b.x1 > q.x0 && b.y0 < q.y1 && b.y1 > q.y0);
  for (const p of named.sort((a, b) => b.y - a.y || a.x - b.x)) {
    const X = sx(p.x), Y = sy(p.y);
    o.push(`<circle cx="${X.toFixed(1)}" cy="${Y.toFixed(1)}" r="4.5" fill="${p.ref ? '#c0392b' : '#1f5fa8'}"/>`);
    const w = p.label.length * 6.2;
    let best = null;
    for (let k = 0; k < 14 && !best; k++) {
      for (const side of (X > W - R - w - 12 ? [-1, 1] : [1, -1])) {
        for (const dy of [-7 - 13 * k, 11 + 13 * k]) {
          const tx = X + side * 8, ty = Y + dy;
          const b = side > 0 ? { x0: tx, x1: tx + w, y0: ty - 10, y1: ty + 2 } : { x0: tx - w, x1: tx, y0: ty - 10, y1: ty + 2 };
          if (b.x0 < L + 2 || b.x1 > W - R - 2 || b.y0 < y0 + 1 || b.y1 > y0 + PANEL - 1) continue;
          if (!hit(b)) { best = { tx, ty, b, side, k }; break; }
        }
        if (best) break;
      }
    }
    if (!best) best = { tx: X + 8, ty: Y - 7, side: 1, k: 0, b: { x0: X + 8, x1: X + 8 + w, y0: Y - 17, y1: Y - 5 } };
    boxes.push(best.b);
    if (best.k > 0) o.push(`<line x1="${X.toFixed(1)}" y1="${Y.toFixed(1)}" x2="${best.tx.toFixed(1)}" y2="${(best.ty - 4).toFixed(1)}" stroke="#999" stroke-width="0.7"/>`);
    o.push(`<text x="${best.tx.toFixed(1)}" y="${best.ty.toFixed(1)}" text-anchor="${best.side > 0 ? 'start' : 'end'}">${esc(p.label)}</text>`);
  }
}

const SIZE_AXIS = { of: (r) => r.bytes / 1e6, title: 'model size (MB, log scale)', what: 'model size' };

function svgPlot(target, rows, opts = {}) {
  const labelled = new Set(opts.labelled || []);
  labelled.add('fp32');
  const axis = opts.x || SIZE_AXIS;
  // fp32 and the quantized configurations (fp32 upgraded to opset 21 would sit on fp32).
  const ok = rows.filter((r) => !r.error && r.fidelity && axis.of(r) > 0 && (r.pipeline || r.config === 'fp32' || opts.x));
  const base = (r) => ({ id: r.config, x: axis.of(r), label: r.config, ref: r.config === 'fp32' });
  const sqPts = ok.filter((r) => r.fidelity.sqnr_db !== null).map((r) => ({ ...base(r), y: r.fidelity.sqnr_db, top: r.fidelity.sqnr_db >= 90 }));
  const metric = ok.find((r) => r.metric) ? ok.find((r) => r.metric).metric.name : 'task metric';
  const mPts = ok.filter((r) => r.metric && typeof r.metric.value === 'number').map((r) => ({ ...base(r), y: r.metric.value }));
  const xs = ok.map(axis.of);
  const xLo = (xs.length ? Math.min(...xs) : 0.1) / 1.25, xHi = (xs.length ? Math.max(...xs) : 1) * 1.25;
  const sx = (x) => L + ((Math.log10(x) - Math.log10(xLo)) / (Math.log10(xHi) - Math.log10(xLo))) * (W - L - R);
  const xTicks = logTicks(xLo, xHi);
  const H = TOP + 2 * PANEL + GAP + 46;
  const o = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif" font-size="11">`);
  o.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  o.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="15">${esc(target)}: ${esc(axis.what)} against fidelity and task metric</text>`);
  const lower = Boolean(opts.metricLowerIsBetter);
  const hiBetter = (a, b) => a > b;
  const topLabelled = new Set(labelled);
  topLabelled.frontier = true;
  panel(o, sqPts, { y0: TOP, title: 'output SQNR against fp32 (dB, higher is better)', yLabel: 'SQNR dB', sx, xTicks, better: hiBetter, labelled: topLabelled, topText: '≥ 90' });
  panel(o, mPts, { y0: TOP + PANEL + GAP, title: `task metric: ${metric} (${lower ? 'lower' : 'higher'} is better)`, yLabel: metric, sx, xTicks, better: lower ? (a, b) => a < b : hiBetter, labelled });
  o.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle" font-size="12">${esc(axis.title)}</text>`);
  o.push('</svg>');
  return o.join('\n') + '\n';
}

module.exports = { svgPlot, frontier, logTicks };

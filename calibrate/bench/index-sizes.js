#!/usr/bin/env node
// Where two .calib files differ in size: the data section and, per part of the JSON index, the
// bytes it takes (docs/calibration.md, "The file").
//   node calibrate/bench/index-sizes.js A.calib B.calib
'use strict';
const fs = require('fs');

function sizes(file) {
  // Only the header and the index are read (ISNet's file is 2.8 GB).
  const fd = fs.openSync(file, 'r');
  const head = Buffer.alloc(16);
  fs.readSync(fd, head, 0, 16, 0);
  const length = Number(head.readBigUInt64LE(8));
  const text = Buffer.alloc(length);
  fs.readSync(fd, text, 0, length, 16);
  fs.closeSync(fd);
  const buf = { length: fs.statSync(file).size };
  const index = JSON.parse(text.toString('utf8'));
  const bytes = (v) => JSON.stringify(v === undefined ? null : v).length;
  const sum = (list, f) => (list || []).reduce((n, x) => n + bytes(f(x)), 0);
  const out = { 'file': buf.length, 'data section': buf.length - 16 - length, 'index (padded)': length };
  for (const key of Object.keys(index)) out[`index.${key}`] = bytes(index[key]);
  for (const f of ['min', 'max', 'count', 'non_finite', 'shape']) out[`tensors[].${f}`] = sum(index.tensors, (t) => t[f]);
  out['tensors[].histogram.range'] = sum(index.tensors, (t) => t.histogram && t.histogram.range);
  for (const f of ['samples', 'positions']) out[`weights[].hessians.${f}`] = sum(index.weights, (w) => w.hessians && w.hessians[f]);
  return out;
}

const [a, b] = process.argv.slice(2);
if (!a || !b) { console.error('usage: index-sizes.js A.calib B.calib'); process.exit(2); }
const sa = sizes(a), sb = sizes(b);
console.log(`| bytes | ${a} | ${b} | difference |\n| --- | ---: | ---: | ---: |`);
for (const k of Object.keys(sa)) console.log(`| ${k} | ${sa[k]} | ${sb[k] ?? ''} | ${(sb[k] ?? 0) - sa[k]} |`);

#!/usr/bin/env node
// Run two ONNX models in ONNX Runtime on identical seeded random inputs and
// compare their outputs element by element.
//
//   node eval/compare.js A.onnx B.onnx [--dims N=1,T=16] [--seed S] [--rtol R] [--atol A]
//                        [--level disabled|basic|extended|all] [--int-range LO:HI] [--quiet]
//                        [--min-sqnr DB]
//
// A is the reference. Input shapes come from A's inputs; symbolic (or unknown)
// dims take their value from --dims (name=value, comma separated, repeatable),
// default 1. Float inputs are uniform in [-1,1); integer inputs uniform in
// [LO,HI) (default 0:10); bool inputs random. Supported input types: float32,
// float16, float64, int64, int32, int8, uint8, bool.
// An element passes when |a-b| <= atol + rtol*|a| (NaN only matches NaN). With --min-sqnr an
// output passes instead when its SQNR against A (10 log10 of signal over noise energy) is at
// least DB and it is not identical to A: for a quantized model against the original.
// The inputs line shows the value of every non-float input of at most 4 elements (c[]=1 n[]=3),
// so a test can check which branch of an If its seed takes.
// Prints one line per output (max abs / max relative difference) and one
// verdict line. Exit status: 0 all within tolerance, 1 beyond tolerance, 2 error.
'use strict';
const fs = require('fs');
const { rng } = require('./rng');

function fail(msg) {
  console.error(`compare: error: ${String(msg).split('\n')[0]}`);
  process.exit(2);
}

let ort;
try {
  ort = require('onnxruntime-node');
} catch (e) {
  fail(`onnxruntime-node is not installed (cd ${__dirname} && npm ci)`);
}

function parseArgs(argv) {
  const a = { files: [], dims: {}, seed: 1, rtol: 1e-4, atol: 1e-5, level: 'basic', intLo: 0, intHi: 10, quiet: false, minSqnr: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) fail(`option ${k} needs a value`);
      return argv[++i];
    };
    const num = (s, what) => {
      const v = Number(s);
      if (!Number.isFinite(v)) fail(`${what} must be a number, got '${s}'`);
      return v;
    };
    if (k === '--dims') {
      for (const kv of val().split(',').filter(Boolean)) {
        const m = /^([^=]+)=(\d+)$/.exec(kv.trim());
        if (!m) fail(`--dims expects NAME=VALUE[,NAME=VALUE...], got '${kv}'`);
        a.dims[m[1]] = parseInt(m[2], 10);
      }
    } else if (k === '--seed') a.seed = num(val(), '--seed') >>> 0;
    else if (k === '--rtol') a.rtol = num(val(), '--rtol');
    else if (k === '--atol') a.atol = num(val(), '--atol');
    else if (k === '--level') {
      a.level = val();
      if (!['disabled', 'basic', 'extended', 'layout', 'all'].includes(a.level)) fail(`--level must be disabled, basic, extended, layout or all, got '${a.level}'`);
    } else if (k === '--int-range') {
      const m = /^(-?\d+):(-?\d+)$/.exec(val());
      if (!m || +m[2] <= +m[1]) fail('--int-range expects LO:HI with HI > LO');
      a.intLo = +m[1]; a.intHi = +m[2];
    } else if (k === '--min-sqnr') a.minSqnr = num(val(), '--min-sqnr');
    else if (k === '--quiet' || k === '-q') a.quiet = true;
    else if (k === '-h' || k === '--help') {
      console.log('usage: node eval/compare.js A.onnx B.onnx [--dims N=1,...] [--seed S] [--rtol R] [--atol A] [--level basic] [--int-range LO:HI] [--quiet] [--min-sqnr DB]');
      process.exit(0);
    } else if (k.startsWith('--')) fail(`unknown option ${k}`);
    else a.files.push(k);
  }
  if (a.files.length !== 2) fail('expected two model files: A.onnx B.onnx');
  for (const f of a.files) if (!fs.existsSync(f)) fail(`model file not found: ${f}`);
  return a;
}

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);
function toHalf(v) {
  f32buf[0] = v;
  const x = u32buf[0];
  const sign = (x >>> 16) & 0x8000;
  let exp = ((x >>> 23) & 0xff) - 127 + 15;
  let mant = x & 0x7fffff;
  if (((x >>> 23) & 0xff) === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  if (exp >= 0x1f) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - exp;
    let h = mant >>> shift;
    if ((mant >>> (shift - 1)) & 1) h += 1;
    return sign | h;
  }
  let h = sign | (exp << 10) | (mant >>> 13);
  if (mant & 0x1000) h += 1; // round half up (sufficient for test inputs)
  return h;
}
function fromHalf(h) {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

function resolveShape(meta, dims) {
  const shape = meta.shape || [];
  return shape.map((d) => {
    if (typeof d === 'number' && d >= 0) return d;
    if (typeof d === 'string' && d in dims) return dims[d];
    return 1;
  });
}

function makeInput(meta, shape, rand, a) {
  const n = shape.reduce((x, y) => x * y, 1);
  const ints = (Arr, conv) => {
    const out = new Arr(n);
    for (let i = 0; i < n; i++) out[i] = conv(a.intLo + Math.floor(rand() * (a.intHi - a.intLo)));
    return out;
  };
  switch (meta.type) {
    case 'float32': { const d = new Float32Array(n); for (let i = 0; i < n; i++) d[i] = rand() * 2 - 1; return new ort.Tensor('float32', d, shape); }
    case 'float64': { const d = new Float64Array(n); for (let i = 0; i < n; i++) d[i] = rand() * 2 - 1; return new ort.Tensor('float64', d, shape); }
    case 'float16': { const d = new Uint16Array(n); for (let i = 0; i < n; i++) d[i] = toHalf(rand() * 2 - 1); return new ort.Tensor('float16', d, shape); }
    case 'int64': return new ort.Tensor('int64', ints(BigInt64Array, BigInt), shape);
    case 'int32': return new ort.Tensor('int32', ints(Int32Array, Number), shape);
    case 'int8': return new ort.Tensor('int8', ints(Int8Array, Number), shape);
    case 'uint8': return new ort.Tensor('uint8', ints(Uint8Array, Number), shape);
    case 'bool': { const d = new Uint8Array(n); for (let i = 0; i < n; i++) d[i] = rand() < 0.5 ? 1 : 0; return new ort.Tensor('bool', d, shape); }
    default: fail(`input '${meta.name}' has unsupported type ${meta.type}`);
  }
}

function toNumbers(t) {
  const d = t.data;
  if (t.type === 'float16' && d instanceof Uint16Array) return Float64Array.from(d, fromHalf);
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) return Float64Array.from(d, Number);
  if (t.type === 'string') fail('string outputs are not supported');
  return d;
}

const fmt = (v) => (Number.isFinite(v) ? v.toExponential(3) : String(v));

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const [fa, fb] = a.files;
  let sa, sb;
  try { sa = await ort.InferenceSession.create(fa, { graphOptimizationLevel: a.level, logSeverityLevel: 3 }); } catch (e) { fail(`cannot load ${fa}: ${e.message}`); }
  try { sb = await ort.InferenceSession.create(fb, { graphOptimizationLevel: a.level, logSeverityLevel: 3 }); } catch (e) { fail(`cannot load ${fb}: ${e.message}`); }

  const metaA = sa.inputMetadata, metaB = sb.inputMetadata;
  const namesB = new Map(metaB.map((m) => [m.name, m]));
  for (const m of metaA) {
    const mb = namesB.get(m.name);
    if (!mb) fail(`input '${m.name}' of A is not an input of B (B has: ${[...namesB.keys()].join(', ')})`);
    if (mb.type !== m.type) fail(`input '${m.name}' is ${m.type} in A but ${mb.type} in B`);
  }
  if (metaB.length !== metaA.length) fail(`A has ${metaA.length} inputs but B has ${metaB.length}`);
  for (const k of Object.keys(a.dims)) {
    const used = metaA.some((m) => (m.shape || []).includes(k));
    if (!used) console.error(`compare: warning: --dims names '${k}', which is not a symbolic dim of any input of A (ignored)`);
  }

  const rand = rng(a.seed);
  const feeds = {};
  const shapes = [];
  for (const m of metaA) {
    if (!m.isTensor) fail(`input '${m.name}' is not a tensor`);
    const shape = resolveShape(m, a.dims);
    feeds[m.name] = makeInput(m, shape, rand, a);
    const t = feeds[m.name];
    const small = !m.type.startsWith('float') && t.data.length <= 4;
    shapes.push(`${m.name}[${shape.join(',')}]${small ? `=${Array.from(t.data, String).join(',')}` : ''}`);
  }

  const outA = sa.outputNames, outB = new Set(sb.outputNames);
  for (const n of outA) if (!outB.has(n)) fail(`output '${n}' of A is not an output of B`);
  let ra, rb;
  try { ra = await sa.run(feeds); } catch (e) { fail(`running ${fa} failed: ${e.message}`); }
  try { rb = await sb.run(feeds, outA); } catch (e) { fail(`running ${fb} failed: ${e.message}`); }

  const criterion = a.minSqnr === null ? `rtol=${a.rtol} atol=${a.atol}` : `min-sqnr=${a.minSqnr} dB`;
  if (!a.quiet) console.log(`compare: inputs ${shapes.join(' ')} seed=${a.seed} level=${a.level} ${criterion}`);
  let bad = 0;
  for (const n of outA) {
    const ta = ra[n], tb = rb[n];
    const dimsA = ta.dims.map(Number), dimsB = tb.dims.map(Number);
    if (dimsA.join(',') !== dimsB.join(',')) {
      console.log(`output ${n}: FAIL shape [${dimsA}] in A but [${dimsB}] in B`);
      bad++;
      continue;
    }
    const x = toNumbers(ta), y = toNumbers(tb);
    if (a.minSqnr !== null) {
      let signal = 0, noise = 0;
      for (let i = 0; i < x.length; i++) {
        signal += x[i] * x[i];
        noise += (x[i] - y[i]) * (x[i] - y[i]);
      }
      const db = noise === 0 ? Infinity : 10 * Math.log10(signal / noise);
      // NaN noise fails too; identical outputs mean the model was not changed at all.
      const ok = db >= a.minSqnr && noise > 0;
      if (!ok) bad++;
      const why = noise === 0 ? 'FAIL (identical to A: nothing was quantized)' : ok ? 'ok' : 'FAIL';
      console.log(`output ${n} [${dimsA}]: sqnr=${db.toFixed(2)} dB ${why}`);
      continue;
    }
    let maxAbs = 0, maxRel = 0, nBad = 0, worst = -1;
    for (let i = 0; i < x.length; i++) {
      const p = x[i], q = y[i];
      if (Number.isNaN(p) || Number.isNaN(q)) {
        if (!(Number.isNaN(p) && Number.isNaN(q))) { nBad++; maxAbs = Infinity; maxRel = Infinity; worst = i; }
        continue;
      }
      const d = p === q ? 0 : Math.abs(p - q);
      const rel = d === 0 ? 0 : d / Math.max(Math.abs(p), 1e-30);
      if (d > maxAbs || Number.isNaN(d)) { maxAbs = d; worst = i; }
      if (rel > maxRel) maxRel = rel;
      if (!(d <= a.atol + a.rtol * Math.abs(p))) nBad++;
    }
    const ok = nBad === 0;
    if (!ok) bad++;
    if (!a.quiet || !ok) {
      const where = !ok && worst >= 0 ? ` worst at flat index ${worst}: ${x[worst]} vs ${y[worst]}` : '';
      console.log(`output ${n} [${dimsA}]: max_abs=${fmt(maxAbs)} max_rel=${fmt(maxRel)} ${ok ? 'ok' : `FAIL (${nBad} of ${x.length} elements beyond tolerance)${where}`}`);
    }
  }
  if (bad) {
    console.log(`compare: FAIL: ${bad} of ${outA.length} outputs differ beyond ${criterion}`);
    process.exit(1);
  }
  console.log(`compare: PASS: ${outA.length} outputs within ${criterion}`);
}

// opencv-run.js draws the same seeded inputs.
module.exports = { rng, resolveShape, makeInput, toNumbers };
if (require.main === module) main().catch((e) => fail(e && e.message ? e.message : e));

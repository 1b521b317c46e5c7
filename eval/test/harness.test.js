// Tests of the evaluation harness: metric helpers of run.js and the exit codes and
// messages of compare.js on tiny ONNX models encoded here by hand (no model files,
// no network). Run: cd eval && npm test   (node --test test/)
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { levenshtein, ctcGreedy, Fidelity, maskCounts, median } = require('../run.js');

// ---- minimal protobuf encoder for ONNX ModelProto --------------------------
function varint(n) {
  const out = [];
  let v = BigInt(n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}
const key = (field, wire) => varint((field << 3) | wire);
const vint = (field, n) => Buffer.concat([key(field, 0), varint(n)]);
const bytes = (field, buf) => Buffer.concat([key(field, 2), varint(buf.length), buf]);
const str = (field, s) => bytes(field, Buffer.from(s, 'utf8'));
const FLOAT = 1, INT64 = 7, FLOAT16 = 10;

function valueInfo(name, elemType, dims) {
  const dimMsgs = dims.map((d) => bytes(1, typeof d === 'number' ? vint(1, d) : str(2, d)));
  const shape = bytes(2, Buffer.concat(dimMsgs));
  const tensorType = bytes(1, Buffer.concat([vint(1, elemType), shape]));
  return Buffer.concat([str(1, name), bytes(2, tensorType)]);
}
function floatInit(name, values) {
  const raw = Buffer.from(new Float32Array(values).buffer);
  return Buffer.concat([vint(1, values.length), vint(2, FLOAT), str(8, name), bytes(9, raw)]);
}
function node(op, inputs, outputs) {
  return Buffer.concat([...inputs.map((i) => str(1, i)), ...outputs.map((o) => str(2, o)), str(4, op)]);
}
// y = x * c (x: float [N,4]); z = Identity(ids) (int64 [N]); c from `scale`.
function mulModel(scale) {
  const graph = Buffer.concat([
    bytes(1, node('Mul', ['x', 'c'], ['y'])),
    bytes(1, node('Identity', ['ids'], ['z'])),
    str(2, 'g'),
    bytes(5, floatInit('c', scale)),
    bytes(11, valueInfo('x', FLOAT, ['N', 4])),
    bytes(11, valueInfo('ids', INT64, ['N'])),
    bytes(12, valueInfo('y', FLOAT, ['N', 4])),
    bytes(12, valueInfo('z', INT64, ['N'])),
  ]);
  return Buffer.concat([vint(1, 8), bytes(8, Buffer.concat([str(1, ''), vint(2, 13)])), bytes(7, graph)]);
}
// y = Cast(x) for a float16 input.
function halfModel() {
  const castTo = Buffer.concat([str(1, 'to'), vint(20, 2), vint(3, FLOAT)]); // AttributeProto type INT=2, i=3
  const n = Buffer.concat([str(1, 'x'), str(2, 'y'), str(4, 'Cast'), bytes(5, castTo)]);
  const graph = Buffer.concat([bytes(1, n), str(2, 'g'), bytes(11, valueInfo('x', FLOAT16, [2, 3])), bytes(12, valueInfo('y', FLOAT, [2, 3]))]);
  return Buffer.concat([vint(1, 8), bytes(8, Buffer.concat([str(1, ''), vint(2, 13)])), bytes(7, graph)]);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-opt-eval-test-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
const write = (name, buf) => { const f = path.join(dir, name); fs.writeFileSync(f, buf); return f; };
const A = write('a.onnx', mulModel([1, 2, 3, 4]));
const B = write('b.onnx', mulModel([1, 2, 3, 4.000001]));
const C = write('c.onnx', mulModel([1, 2, 3, 5]));
const H = write('h.onnx', halfModel());
const compare = (...args) => spawnSync(process.execPath, [path.join(__dirname, '..', 'compare.js'), ...args], { encoding: 'utf8' });

test('compare: identical models pass with exit 0', () => {
  const r = compare(A, A, '--dims', 'N=3');
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stdout, /inputs x\[3,4\] ids\[3\]/);
  assert.match(r.stdout, /compare: PASS: 2 outputs/);
});

test('compare: tiny difference within tolerance passes', () => {
  const r = compare(A, B, '--dims', 'N=2', '--seed', '7');
  assert.strictEqual(r.status, 0, r.stdout + r.stderr);
});

test('compare: real difference exits 1 with one FAIL line per output', () => {
  const r = compare(A, C);
  assert.strictEqual(r.status, 1);
  assert.match(r.stdout, /output y \[1,4\]: max_abs=.* FAIL \(1 of 4 elements beyond tolerance\)/);
  assert.match(r.stdout, /compare: FAIL: 1 of 2 outputs differ/);
  const loose = compare(A, C, '--atol', '2');
  assert.strictEqual(loose.status, 0, loose.stdout);
});

test('compare: an unknown --dims name is a one-line warning', () => {
  const r = compare(A, A, '--dims', 'Q=2');
  assert.strictEqual(r.status, 0);
  assert.match(r.stderr, /^compare: warning: --dims names 'Q'.*\n$/);
});

test('compare: float16 inputs are supported', () => {
  const r = compare(H, H);
  assert.strictEqual(r.status, 0, r.stderr);
});

test('compare: errors exit 2 with a one-line message', () => {
  for (const [args, re] of [
    [[A, path.join(dir, 'missing.onnx')], /model file not found/],
    [[A, H], /input 'x' of A is not an input of B|is float32 in A/],
    [[A, A, '--rtol', 'x'], /--rtol must be a number/],
    [[A], /expected two model files/],
    [[A, write('bad.onnx', Buffer.from('not a model'))], /cannot load/],
  ]) {
    const r = compare(...args);
    assert.strictEqual(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, re);
    assert.strictEqual(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('levenshtein', () => {
  assert.strictEqual(levenshtein('kitten', 'sitting'), 3);
  assert.strictEqual(levenshtein('', 'abc'), 3);
  assert.strictEqual(levenshtein('same', 'same'), 0);
});

test('CTC greedy decode drops blanks and repeats', () => {
  const keys = ['a', 'b'];
  // classes: 0 blank, 1 'a', 2 'b', 3 space; T=6 one-hot rows
  const seq = [1, 1, 0, 1, 3, 2];
  const probs = new Float32Array(seq.length * 4);
  seq.forEach((c, t) => { probs[t * 4 + c] = 1; });
  assert.strictEqual(ctcGreedy(probs, [1, seq.length, 4], keys), 'aa b');
});

test('fidelity: SQNR and cosine', () => {
  const f = new Fidelity();
  f.add(Float32Array.from([1, 2, 3, 4]), Float32Array.from([1, 2, 3, 4]));
  assert.strictEqual(f.result().sqnr_db, 999);
  const g = new Fidelity();
  g.add(Float32Array.from([3, 4]), Float32Array.from([3, 4.5])); // signal 25, noise 0.25 -> 20 dB
  assert.ok(Math.abs(g.result().sqnr_db - 20) < 1e-6);
  assert.ok(g.result().cosine > 0.99 && g.result().cosine < 1);
});

test('mask counts and median', () => {
  const c = maskCounts(Float32Array.from([0.9, 0.9, 0.1, 0.1]), Float32Array.from([0.9, 0.1, 0.9, 0.1]), 0.5);
  assert.deepStrictEqual(c, { inter: 1, uni: 3, pos: 2 });
  assert.strictEqual(median([3, 1, 2]), 2);
  assert.strictEqual(median([4, 1, 2, 3]), 2.5);
});

test('sensitivity: probe options, exact-name regex, quoting, output noise', () => {
  const { quoteOption, regexExact, withOptions, outputNoise } = require('../sensitivity.js');
  assert.strictEqual(withOptions('quantize-weights{bits=4}', 'weights=x'), 'quantize-weights{bits=4,weights=x}');
  assert.strictEqual(withOptions('upgrade-opset{target=21},quantize-weights', 'report=r'), 'upgrade-opset{target=21},quantize-weights{report=r}');
  const name = 'model/conv2d_1/Conv2D:0 (a.b)[1]+';
  const re = new RegExp(regexExact(name));
  assert.ok(re.test(name));
  assert.ok(!re.test(`${name}x`) && !re.test(`x${name}`) && !re.test('model/conv2d_1/Conv2D:0 (aXb)[1]+'));
  assert.strictEqual(quoteOption('a"b\\c'), '"a\\"b\\\\c"');
  const refs = [{ main: Float32Array.from([1, 2]), embeddings: Float32Array.from([2, 0]) }];
  const outs = [{ main: Float32Array.from([1, 1]), embeddings: Float32Array.from([2, 0]) }];
  assert.ok(Math.abs(outputNoise(refs, outs) - 1 / 5) < 1e-12);  // main: 1/5, embeddings: 0
  assert.strictEqual(outputNoise(refs, refs), 0);
});

// Tests of eval/activations.js's NumPy writer and calibration manifest (no models, no ORT run).
// The .npy files are read back by an independent parser here and, when /usr/bin/python3 has
// NumPy, by numpy.load itself.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { npyHeader, npyBytes, writeNpy, safeName, Manifest, spacedRuns, recordingSession, FORMAT } = require('../activations.js');

// Parses a NumPy 1.0 file from the specification, independently of the writer.
function parseNpy(buf) {
  assert.strictEqual(buf.subarray(0, 6).toString('latin1'), '\x93NUMPY');
  assert.deepStrictEqual([buf[6], buf[7]], [1, 0]);
  const hlen = buf.readUInt16LE(8);
  const header = buf.subarray(10, 10 + hlen).toString('latin1');
  assert.strictEqual((10 + hlen) % 64, 0, 'data must start on a 64-byte boundary');
  assert.ok(header.endsWith('\n'));
  const descr = /'descr': '([^']+)'/.exec(header)[1];
  assert.match(header, /'fortran_order': False/);
  const shapeText = /'shape': \(([^)]*)\)/.exec(header)[1];
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  return { descr, shape, data: buf.subarray(10 + hlen) };
}

test('npy float32: header, shape and little-endian data read back', () => {
  const values = Float32Array.from([1.5, -2.25, 3e-8, 65504, 0, -0.5]);
  const buf = npyBytes('<f4', [2, 3], values);
  const p = parseNpy(buf);
  assert.strictEqual(p.descr, '<f4');
  assert.deepStrictEqual(p.shape, [2, 3]);
  assert.strictEqual(p.data.length, 24);
  for (let i = 0; i < values.length; i++) assert.strictEqual(p.data.readFloatLE(4 * i), values[i]);
});

test('npy shape text: 1-D has a trailing comma, scalars are ()', () => {
  assert.match(npyHeader('<f4', [5]).toString('latin1'), /'shape': \(5,\), /);
  assert.match(npyHeader('<f4', []).toString('latin1'), /'shape': \(\), /);
  assert.match(npyHeader('<f2', [1, 3, 48, 648]).toString('latin1'), /'descr': '<f2'.*'shape': \(1, 3, 48, 648\)/);
  for (const shape of [[], [7], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]]) assert.strictEqual(npyHeader('<f4', shape).length % 64, 0);
});

test('npy float16 writes the raw half bits', () => {
  const bits = Uint16Array.from([0x3c00, 0xc000, 0x7bff]); // 1, -2, 65504
  const p = parseNpy(npyBytes('<f2', [3], bits));
  assert.deepStrictEqual([0, 1, 2].map((i) => p.data.readUInt16LE(2 * i)), [0x3c00, 0xc000, 0x7bff]);
});

test('npy rejects a size, element width or dtype that does not match', () => {
  assert.throws(() => npyBytes('<f4', [2, 2], new Float32Array(3)), /does not match/);
  assert.throws(() => npyBytes('<f2', [2], new Float32Array(2)), /does not match/);
  assert.throws(() => npyHeader('<i8', [2]), /unsupported npy dtype/);
  assert.throws(() => npyHeader('<f4', [2, -1]), /bad npy dimension/);
});

test('numpy.load reads the files (skipped without /usr/bin/python3 + numpy)', (t) => {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) { t.skip('no numpy'); return; }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'npy-'));
  const a = Float32Array.from({ length: 24 }, (_, i) => i * 0.25 - 3);
  writeNpy(path.join(dir, 'a.npy'), '<f4', [2, 3, 4], a);
  writeNpy(path.join(dir, 'h.npy'), '<f2', [2], Uint16Array.from([0x3c00, 0xb800])); // 1, -0.5
  const py = [
    'import numpy as np, sys, json',
    'a = np.load(sys.argv[1] + "/a.npy"); h = np.load(sys.argv[1] + "/h.npy")',
    'print(json.dumps([str(a.dtype), list(a.shape), a[1, 2, 3].item(), a.flags["C_CONTIGUOUS"], str(h.dtype), h.tolist()]))',
  ].join('\n');
  const r = spawnSync('/usr/bin/python3', ['-c', py, dir], { encoding: 'utf8' });
  fs.rmSync(dir, { recursive: true, force: true });
  assert.strictEqual(r.status, 0, r.stderr);
  assert.deepStrictEqual(JSON.parse(r.stdout), ['float32', [2, 3, 4], a[23], true, 'float16', [1, -0.5]]);
});

test('manifest: format, value order, relative unique file names', () => {
  const m = new Manifest(['x', 'conv/out:0', 'conv_out_0']);
  const f0 = m.fileFor('conv/out:0', 0);
  const f1 = m.fileFor('conv_out_0', 0);
  assert.notStrictEqual(f0, f1, 'names that sanitize alike must not collide');
  assert.ok(!f0.includes('/') && f0.endsWith('.npy'));
  m.add('conv/out:0', f0, 100);
  m.add('conv/out:0', m.fileFor('conv/out:0', 1), 100);
  m.add('x', m.fileFor('x', 0), 10);
  const doc = JSON.parse(JSON.stringify(m.toJSON({ model: 'm' })));
  assert.strictEqual(doc.format, FORMAT);
  assert.strictEqual(FORMAT, 'onnx-opt-calibration-1');
  assert.deepStrictEqual(Object.keys(doc.values), ['x', 'conv/out:0', 'conv_out_0']);
  assert.deepStrictEqual(doc.values['conv/out:0'], ['1-conv_out_0.0.npy', '1-conv_out_0.1.npy']);
  assert.deepStrictEqual(doc.values.conv_out_0, []);
  assert.strictEqual(m.bytes, 210);
  assert.throws(() => m.fileFor('nope', 0), /not exposed/);
  assert.strictEqual(safeName('..a b/c'), '_a_b_c');
});

test('spacedRuns keeps every run up to the limit, then an even spread', () => {
  assert.deepStrictEqual([...spacedRuns(3, 0)], [0, 1, 2]);
  assert.deepStrictEqual([...spacedRuns(3, 5)], [0, 1, 2]);
  const s = [...spacedRuns(100, 4)];
  assert.deepStrictEqual(s, [12, 37, 62, 87]);
});

test('recordingSession fetches the exposed values, records them and returns only the originals', async () => {
  const calls = [];
  const fake = {
    inputNames: ['x'], outputNames: ['y', 'a0', 'a1'], inputMetadata: [{ shape: [1, 16, 96] }],
    async run(feeds, fetches) {
      calls.push(fetches);
      return Object.fromEntries(fetches.map((n) => [n, { name: n, x: feeds.x }]));
    },
  };
  const seen = [];
  const s = recordingSession(fake, ['y'], ['a0', 'a1'], (res) => seen.push(Object.keys(res).sort()));
  assert.deepStrictEqual(s.outputNames, ['y']);
  assert.deepStrictEqual(s.inputMetadata, fake.inputMetadata);
  const out = await s.run({ x: 3 });
  assert.deepStrictEqual(calls[0], ['y', 'a0', 'a1']);
  assert.deepStrictEqual(Object.keys(out), ['y']);
  assert.strictEqual(out.y.x, 3);
  assert.deepStrictEqual(seen, [['a0', 'a1', 'y']]);
  // An explicit fetch list is honoured; an exposed value also asked for is fetched once.
  const out2 = await s.run({ x: 4 }, ['a0']);
  assert.deepStrictEqual(calls[1], ['a0', 'a1']);
  assert.deepStrictEqual(Object.keys(out2), ['a0']);
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

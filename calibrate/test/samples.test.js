// Sample loading: .npy/.npz (dtypes, byte orders, Fortran order, deflated archives), the image
// and wav converters, and the feeds built for a model's inputs.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const { parseNpy, npyBytes, readNpz, writeNpz, readZip, crc32 } = require('../lib/npy.js');
const { imageTensor, wavTensor, decodeWav } = require('../lib/media.js');
const { convertFor, shuffled, parseArgs } = require('../calibrate.js');
const { scratch } = require('./helpers.js');

function npyWithHeader(descr, shape, fortran, payload) {
  let dict = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  dict = dict.padEnd(Math.ceil((dict.length + 11) / 64) * 64 - 11) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1'); head[6] = 1; head.writeUInt16LE(dict.length, 8);
  return Buffer.concat([head, Buffer.from(dict, 'latin1'), payload]);
}

test('npy: every dtype round-trips, including int64 and bool', () => {
  const cases = [
    ['float32', Float32Array.from([1.5, -2, 3])], ['float64', Float64Array.from([1e-300, 2, -3])],
    ['int64', BigInt64Array.from([1n, -(2n ** 40n), 3n])], ['int32', Int32Array.from([-7, 0, 9])],
    ['uint8', Uint8Array.from([0, 128, 255])], ['bool', Uint8Array.from([1, 0, 1])], ['float16', Uint16Array.from([0x3c00, 0xc000, 0])],
  ];
  for (const [type, data] of cases) {
    const back = parseNpy(npyBytes(type, [3], data), type);
    assert.strictEqual(back.type, type);
    assert.deepStrictEqual(back.dims, [3]);
    assert.deepStrictEqual(Array.from(back.data), Array.from(data));
  }
});

test('npy: big-endian and Fortran-order arrays come back in C order', () => {
  const be = Buffer.alloc(8);
  be.writeFloatBE(1.25, 0); be.writeFloatBE(-4, 4);
  assert.deepStrictEqual(Array.from(parseNpy(npyWithHeader('>f4', [2], false, be), 'be').data), [1.25, -4]);
  // [[1, 2, 3], [4, 5, 6]] stored column-major: 1 4 2 5 3 6.
  const f = Buffer.from(Int16Array.from([1, 4, 2, 5, 3, 6]).buffer);
  const a = parseNpy(npyWithHeader('<i2', [2, 3], true, f), 'f');
  assert.deepStrictEqual(Array.from(a.data), [1, 2, 3, 4, 5, 6]);
  assert.throws(() => parseNpy(npyWithHeader('<c8', [1], false, Buffer.alloc(8)), 'c'), /unsupported dtype '<c8'/);
  assert.throws(() => parseNpy(npyWithHeader('<f4', [4], false, Buffer.alloc(8)), 'short.npy'), /short.npy: holds 8 data bytes/);
});

test('npz: stored archives round-trip; deflated ones (savez_compressed) are read', () => {
  const dir = scratch();
  const file = path.join(dir, 's.npz');
  writeNpz(file, { x: { type: 'float32', dims: [1, 2], data: Float32Array.from([1, 2]) }, k: { type: 'int64', dims: [1], data: BigInt64Array.from([5n]) } });
  const back = readNpz(file);
  assert.deepStrictEqual(Object.keys(back).sort(), ['k', 'x']);
  assert.deepStrictEqual(Array.from(back.x.data), [1, 2]);
  assert.strictEqual(back.k.data[0], 5n);
  // A deflated entry, built by hand as zipfile.ZIP_DEFLATED writes it.
  const npy = npyBytes('bool', [2], Uint8Array.from([1, 0]));
  const body = zlib.deflateRawSync(npy);
  const name = Buffer.from('on.npy');
  const lh = Buffer.alloc(30);
  lh.writeUInt32LE(0x04034b50, 0); lh.writeUInt16LE(8, 8); lh.writeUInt32LE(crc32(npy), 14);
  lh.writeUInt32LE(body.length, 18); lh.writeUInt32LE(npy.length, 22); lh.writeUInt16LE(name.length, 26);
  const ch = Buffer.alloc(46);
  ch.writeUInt32LE(0x02014b50, 0); ch.writeUInt16LE(8, 10); ch.writeUInt32LE(crc32(npy), 16);
  ch.writeUInt32LE(body.length, 20); ch.writeUInt32LE(npy.length, 24); ch.writeUInt16LE(name.length, 28);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(1, 8); end.writeUInt16LE(1, 10);
  end.writeUInt32LE(46 + name.length, 12); end.writeUInt32LE(30 + name.length + body.length, 16);
  const zip = Buffer.concat([lh, name, body, ch, name, end]);
  const [entry] = readZip(zip, 'c.npz');
  assert.strictEqual(entry.name, 'on.npy');
  assert.deepStrictEqual(Array.from(parseNpy(entry.data, 'on').data), [1, 0]);
  assert.throws(() => readZip(Buffer.from('not a zip at all, really not'), 'bad.npz'), /bad.npz: not a zip/);
});

test('images: PNG and JPEG become normalised NCHW / NHWC inputs', () => {
  const dir = scratch();
  const { PNG } = require('pngjs');
  const jpeg = require('jpeg-js');
  const w = 4, h = 2;
  const png = new PNG({ width: w, height: h });
  for (let i = 0; i < w * h; i++) { png.data[4 * i] = 10 * i; png.data[4 * i + 1] = 200; png.data[4 * i + 2] = 255 - i; png.data[4 * i + 3] = 255; }
  fs.writeFileSync(path.join(dir, 'a.png'), PNG.sync.write(png));
  const opts = { size: [h, w], mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], scale: 1 / 255 };
  const t = imageTensor(path.join(dir, 'a.png'), { ...opts, layout: 'NCHW' });
  assert.deepStrictEqual(t.dims, [1, 3, h, w]);
  for (let i = 0; i < w * h; i++) {
    assert.ok(Math.abs(t.data[i] - ((10 * i) / 255 - 0.5) / 0.25) < 1e-5, `R at ${i}`);
    assert.ok(Math.abs(t.data[2 * w * h + i] - ((255 - i) / 255 - 0.5) / 0.25) < 1e-5, `B at ${i}`);
  }
  const n = imageTensor(path.join(dir, 'a.png'), { ...opts, layout: 'NHWC', bgr: true });
  assert.deepStrictEqual(n.dims, [1, h, w, 3]);
  assert.ok(Math.abs(n.data[3 * 5 + 2] - t.data[5]) < 1e-6, 'NHWC BGR: channel 2 is red');
  // Resizing a uniform image keeps it uniform; a JPEG decodes close to its pixels.
  const flat = { width: 16, height: 16, data: Buffer.alloc(16 * 16 * 4, 128) };
  fs.writeFileSync(path.join(dir, 'b.jpg'), jpeg.encode(flat, 95).data);
  const j = imageTensor(path.join(dir, 'b.jpg'), { size: [5, 7], scale: 1 });
  assert.deepStrictEqual(j.dims, [1, 3, 5, 7]);
  for (const v of j.data) assert.ok(Math.abs(v - 128) <= 2, `jpeg value ${v}`);
  fs.writeFileSync(path.join(dir, 'c.png'), 'plain text');
  assert.throws(() => imageTensor(path.join(dir, 'c.png'), opts), /c.png: neither PNG nor JPEG/);
});

function wav(rate, samples) {
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((s, i) => data.writeInt16LE(s, 2 * i));
  const h = Buffer.alloc(44);
  h.write('RIFF', 0); h.writeUInt32LE(36 + data.length, 4); h.write('WAVE', 8); h.write('fmt ', 12);
  h.writeUInt32LE(16, 16); h.writeUInt16LE(1, 20); h.writeUInt16LE(1, 22); h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28); h.writeUInt16LE(2, 32); h.writeUInt16LE(16, 34); h.write('data', 36); h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

test('wav: 16 kHz PCM becomes [1, n] float32 (scaled); other rates are refused', () => {
  const dir = scratch();
  fs.writeFileSync(path.join(dir, 'a.wav'), wav(16000, [0, 16384, -32768, 100]));
  assert.deepStrictEqual(Array.from(decodeWav(path.join(dir, 'a.wav')).samples), [0, 0.5, -1, 100 / 32768]);
  const t = wavTensor(path.join(dir, 'a.wav'), { wavScale: 32768 });
  assert.deepStrictEqual(t.dims, [1, 4]);
  assert.deepStrictEqual(Array.from(t.data), [0, 16384, -32768, 100]);
  fs.writeFileSync(path.join(dir, 'b.wav'), wav(44100, [1, 2]));
  assert.throws(() => wavTensor(path.join(dir, 'b.wav')), /b.wav: 44100 Hz; the model takes 16000 Hz/);
});

test('feeds: lossless dtype conversions only, shapes checked against fixed dims', () => {
  const info = { name: 'k', type: 'int64', shape: ['1'] };
  const c = convertFor({ type: 'int32', dims: [1], data: Int32Array.from([7]) }, info, 's.npz');
  assert.strictEqual(c.type, 'int64');
  assert.strictEqual(c.data[0], 7n);
  assert.throws(() => convertFor({ type: 'float32', dims: [1], data: Float32Array.from([1]) }, info, 's.npz'), /s.npz: 'k' is float32, the model takes int64/);
  assert.throws(() => convertFor({ type: 'int64', dims: [2], data: BigInt64Array.from([1n, 2n]) }, info, 's.npz'), /'k' is \[2\], the model takes \[1\]/);
  const f = convertFor({ type: 'float64', dims: [2], data: Float64Array.from([0.5, 2]) }, { name: 'x', type: 'float', shape: ['N'] }, 's');
  assert.ok(f.data instanceof Float32Array);
});

test('--seed shuffles deterministically; options are checked', () => {
  const items = Array.from({ length: 20 }, (_, i) => i);
  assert.deepStrictEqual(shuffled(items, 3), shuffled(items, 3));
  assert.notDeepStrictEqual(shuffled(items, 3), items);
  assert.deepStrictEqual(shuffled(items, 3).slice().sort((a, b) => a - b), items);
  assert.throws(() => parseArgs(['m.onnx', '--samples', 'd']), /-o FILE.calib is required/);
  assert.throws(() => parseArgs(['m.onnx', '--samples', 'd', '-o', 'x', '--what', 'hessian']), /unknown statistic 'hessian'/);
  assert.throws(() => parseArgs(['m.onnx', '--images', 'd', '-o', 'x']), /--size HxW/);
});

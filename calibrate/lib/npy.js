// NumPy .npy (format 1.0-3.0) and .npz (numpy.savez / savez_compressed: a zip of .npy files)
// reading and writing, for the sample files onnx-opt-calibrate takes. Every dtype a model input
// can have: floats (f2 f4 f8), signed/unsigned integers (1, 2, 4, 8 bytes) and bool; little- or
// big-endian, C or Fortran order. Zip entries are stored or deflated (node's zlib), no
// dependency.
'use strict';
const fs = require('fs');
const zlib = require('zlib');

// numpy dtype code (without byte order) -> ONNX Runtime tensor type and element size.
const DTYPES = {
  f2: ['float16', 2], f4: ['float32', 4], f8: ['float64', 8],
  i1: ['int8', 1], i2: ['int16', 2], i4: ['int32', 4], i8: ['int64', 8],
  u1: ['uint8', 1], u2: ['uint16', 2], u4: ['uint32', 4], u8: ['uint64', 8],
  b1: ['bool', 1],
};
const TYPED = {
  float16: Uint16Array, float32: Float32Array, float64: Float64Array, int8: Int8Array, int16: Int16Array,
  int32: Int32Array, int64: BigInt64Array, uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array,
  uint64: BigUint64Array, bool: Uint8Array,
};

// Python literal header field: the text after 'key': up to the next top-level ',' or '}'.
function headerField(header, key) {
  const at = header.indexOf(`'${key}'`);
  if (at < 0) return null;
  let i = header.indexOf(':', at) + 1;
  let depth = 0, j = i;
  for (; j < header.length; j++) {
    const c = header[j];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if ((c === ',' || c === '}') && depth === 0) break;
  }
  return header.slice(i, j).trim();
}

// {type, dims, data (typed array)} from the bytes of a .npy file; `name` for errors.
function parseNpy(buf, name) {
  const fail = (why) => { throw new Error(`${name}: ${why}`); };
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') fail('not a .npy file (no \\x93NUMPY magic)');
  const major = buf[6];
  const lenBytes = major === 1 ? 2 : 4;
  const hlen = lenBytes === 2 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = 8 + lenBytes + hlen;
  if (start > buf.length) fail('truncated header');
  const header = buf.toString(major >= 3 ? 'utf8' : 'latin1', 8 + lenBytes, start);
  const descr = (headerField(header, 'descr') || '').replace(/^'|'$/g, '');
  const fortran = headerField(header, 'fortran_order') === 'True';
  const shapeText = headerField(header, 'shape');
  if (!shapeText) fail('header has no shape');
  const dims = shapeText.replace(/[()\s]/g, '').split(',').filter((s) => s !== '').map((s) => {
    const d = Number(s.replace(/L$/, ''));
    if (!Number.isInteger(d) || d < 0) fail(`bad dimension '${s}'`);
    return d;
  });
  const m = /^([<>|=])?([a-z]\d+|\?)$/.exec(descr);
  const code = m ? (m[2] === '?' ? 'b1' : m[2]) : null;
  if (!code || !DTYPES[code]) fail(`unsupported dtype '${descr}' (floats, integers and bool are)`);
  const [type, width] = DTYPES[code];
  const count = dims.reduce((a, b) => a * b, 1);
  if (buf.length - start < count * width) fail(`holds ${buf.length - start} data bytes, ${dims.join('x') || 'scalar'} ${descr} needs ${count * width}`);
  const raw = Buffer.from(buf.subarray(start, start + count * width)); // aligned copy
  if (m[1] === '>' && width > 1) raw[`swap${width * 8}`]();
  let data = new TYPED[type](raw.buffer, raw.byteOffset, count);
  if (fortran && dims.length > 1) data = fortranToC(data, dims);
  return { type, dims, data };
}

function fortranToC(data, dims) {
  const out = new data.constructor(data.length);
  const n = dims.length;
  const idx = new Array(n).fill(0);
  for (let c = 0; c < data.length; c++) {
    let f = 0, stride = 1;
    for (let k = 0; k < n; k++) { f += idx[k] * stride; stride *= dims[k]; }
    out[c] = data[f];
    for (let k = n - 1; k >= 0; k--) { if (++idx[k] < dims[k]) break; idx[k] = 0; }
  }
  return out;
}

const DESCR = {
  float16: '<f2', float32: '<f4', float64: '<f8', int8: '|i1', int16: '<i2', int32: '<i4', int64: '<i8',
  uint8: '|u1', uint16: '<u2', uint32: '<u4', uint64: '<u8', bool: '|b1',
};

function npyBytes(type, dims, data) {
  const descr = DESCR[type];
  if (!descr) throw new Error(`cannot write dtype ${type} to .npy`);
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  dict = dict.padEnd(total - 11, ' ') + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1; head[7] = 0;
  head.writeUInt16LE(dict.length, 8);
  return Buffer.concat([head, Buffer.from(dict, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

// ---------------------------------------------------------------- zip ----
// The entries of a zip archive: [{name, data}] (central directory; stored or deflated).
function readZip(buf, name) {
  const fail = (why) => { throw new Error(`${name}: ${why}`); };
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) fail('not a zip/.npz file (no end of central directory)');
  let count = buf.readUInt16LE(eocd + 10);
  let offset = buf.readUInt32LE(eocd + 16);
  if (offset === 0xffffffff || count === 0xffff) {
    const loc = eocd - 20; // zip64 locator
    if (loc < 0 || buf.readUInt32LE(loc) !== 0x07064b50) fail('zip64 archive without a locator');
    const z = Number(buf.readBigUInt64LE(loc + 8));
    count = Number(buf.readBigUInt64LE(z + 32));
    offset = Number(buf.readBigUInt64LE(z + 48));
  }
  const entries = [];
  for (let k = 0; k < count; k++) {
    if (buf.readUInt32LE(offset) !== 0x02014b50) fail('corrupt central directory');
    const method = buf.readUInt16LE(offset + 10);
    let csize = buf.readUInt32LE(offset + 20);
    let usize = buf.readUInt32LE(offset + 24);
    const nlen = buf.readUInt16LE(offset + 28), xlen = buf.readUInt16LE(offset + 30), clen = buf.readUInt16LE(offset + 32);
    let local = buf.readUInt32LE(offset + 42);
    const entryName = buf.toString('utf8', offset + 46, offset + 46 + nlen);
    // zip64 extra field: sizes/offset that did not fit 32 bits (numpy writes them for big arrays).
    let x = offset + 46 + nlen;
    const xend = x + xlen;
    while (x + 4 <= xend) {
      const id = buf.readUInt16LE(x), size = buf.readUInt16LE(x + 2);
      if (id === 1) {
        let p = x + 4;
        if (usize === 0xffffffff) { usize = Number(buf.readBigUInt64LE(p)); p += 8; }
        if (csize === 0xffffffff) { csize = Number(buf.readBigUInt64LE(p)); p += 8; }
        if (local === 0xffffffff) { local = Number(buf.readBigUInt64LE(p)); p += 8; }
      }
      x += 4 + size;
    }
    offset = xend + clen;
    if (buf.readUInt32LE(local) !== 0x04034b50) fail(`corrupt local header of ${entryName}`);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const body = buf.subarray(start, start + csize);
    let data;
    if (method === 0) data = body;
    else if (method === 8) data = zlib.inflateRawSync(body);
    else fail(`entry ${entryName} uses compression method ${method} (stored and deflate are read)`);
    if (data.length !== usize) fail(`entry ${entryName} inflates to ${data.length} bytes, not ${usize}`);
    entries.push({ name: entryName, data });
  }
  return entries;
}

// CRC-32 (zip's), table-driven.
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
function crc32(buf) {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// A stored (uncompressed) zip of [{name, data}], as numpy.savez writes (entries < 4 GiB).
function zipBytes(entries) {
  const locals = [], centrals = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const crc = crc32(e.data);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0); lh.writeUInt16LE(20, 4); lh.writeUInt16LE(0, 8);
    lh.writeUInt32LE(crc, 14); lh.writeUInt32LE(e.data.length, 18); lh.writeUInt32LE(e.data.length, 22);
    lh.writeUInt16LE(name.length, 26);
    locals.push(lh, name, e.data);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0); ch.writeUInt16LE(20, 4); ch.writeUInt16LE(20, 6);
    ch.writeUInt32LE(crc, 16); ch.writeUInt32LE(e.data.length, 20); ch.writeUInt32LE(e.data.length, 24);
    ch.writeUInt16LE(name.length, 28); ch.writeUInt32LE(offset, 42);
    centrals.push(ch, name);
    offset += 30 + name.length + e.data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(entries.length, 8); end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

// {arrayName: {type, dims, data}} of a .npz file (numpy.savez names entries "<name>.npy").
function readNpz(file) {
  const out = {};
  for (const e of readZip(fs.readFileSync(file), file)) {
    if (!e.name.endsWith('.npy')) continue;
    out[e.name.slice(0, -4)] = parseNpy(e.data, `${file}:${e.name}`);
  }
  return out;
}

// Writes {name: {type, dims, data}} as a .npz file numpy.load reads.
function writeNpz(file, arrays) {
  fs.writeFileSync(file, zipBytes(Object.entries(arrays).map(([k, a]) => ({ name: `${k}.npy`, data: npyBytes(a.type, a.dims, a.data) }))));
}

const readNpy = (file) => parseNpy(fs.readFileSync(file), file);
const writeNpy = (file, a) => fs.writeFileSync(file, npyBytes(a.type, a.dims, a.data));

module.exports = { parseNpy, npyBytes, readNpy, writeNpy, readZip, zipBytes, readNpz, writeNpz, crc32, TYPED };

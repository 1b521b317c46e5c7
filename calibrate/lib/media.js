// Samples from photos and recordings, so a user needs no Python: images (PNG, JPEG; pure-JS
// decoders pngjs and jpeg-js) resized and normalised into a model input, and 16 kHz wav files
// (PCM 8/16/24/32-bit or float32, mono or the first channel) into a [1, samples] float32 input.
// Each becomes one .npz sample named after the model's input.
'use strict';
const fs = require('fs');
const path = require('path');
const { writeNpz } = require('./npy.js');

const IMAGE_EXT = /\.(png|jpe?g)$/i;
const WAV_EXT = /\.wav$/i;

// {width, height, rgba (Uint8Array)} of a PNG or JPEG file.
function decodeImage(file) {
  const buf = fs.readFileSync(file);
  if (buf.length >= 8 && buf.readUInt32BE(0) === 0x89504e47) {
    const { PNG } = require('pngjs');
    const png = PNG.sync.read(buf);
    return { width: png.width, height: png.height, rgba: png.data };
  }
  if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8) {
    const jpeg = require('jpeg-js');
    const img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
    return { width: img.width, height: img.height, rgba: img.data };
  }
  throw new Error(`${file}: neither PNG nor JPEG`);
}

// Bilinear resize of RGB channels to [3][h*w] floats in 0..255 (pixel centres aligned, as
// OpenCV's and PIL's bilinear resize).
function resizeRgb(img, h, w) {
  const out = [new Float32Array(h * w), new Float32Array(h * w), new Float32Array(h * w)];
  const sy = img.height / h, sx = img.width / w;
  for (let y = 0; y < h; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), img.height - 1);
    const y0 = Math.floor(fy), y1 = Math.min(y0 + 1, img.height - 1), wy = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), img.width - 1);
      const x0 = Math.floor(fx), x1 = Math.min(x0 + 1, img.width - 1), wx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const p = (yy, xx) => img.rgba[(yy * img.width + xx) * 4 + c];
        out[c][y * w + x] = (1 - wy) * ((1 - wx) * p(y0, x0) + wx * p(y0, x1)) + wy * ((1 - wx) * p(y1, x0) + wx * p(y1, x1));
      }
    }
  }
  return out;
}

// The model input of one image: value = (pixel * scale - mean[c]) / std[c], in `layout`
// (NCHW or NHWC, batch 1), `bgr` reversing the channel order.
function imageTensor(file, { size, layout = 'NCHW', mean = [0, 0, 0], std = [1, 1, 1], scale = 1 / 255, bgr = false }) {
  const [h, w] = size;
  const planes = resizeRgb(decodeImage(file), h, w);
  if (bgr) planes.reverse();
  const data = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < h * w; i++) {
      const v = (planes[c][i] * scale - mean[c]) / std[c];
      if (layout === 'NCHW') data[c * h * w + i] = v;
      else data[i * 3 + c] = v;
    }
  }
  return { type: 'float32', dims: layout === 'NCHW' ? [1, 3, h, w] : [1, h, w, 3], data };
}

// {rate, samples (Float32Array, -1..1 for PCM)} of the first channel of a wav file.
function decodeWav(file) {
  const buf = fs.readFileSync(file);
  const fail = (why) => { throw new Error(`${file}: ${why}`); };
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') fail('not a RIFF/WAVE file');
  let fmt = null;
  for (let at = 12; at + 8 <= buf.length;) {
    const id = buf.toString('ascii', at, at + 4);
    const size = buf.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'fmt ') {
      let format = buf.readUInt16LE(body);
      if (format === 0xfffe && size >= 26) format = buf.readUInt16LE(body + 24); // extensible
      fmt = { format, channels: buf.readUInt16LE(body + 2), rate: buf.readUInt32LE(body + 4), bits: buf.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (!fmt) fail('data chunk before fmt chunk');
      const width = fmt.bits / 8, frame = width * fmt.channels;
      const end = Math.min(body + size, buf.length);
      const n = Math.floor((end - body) / frame);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const p = body + i * frame;
        if (fmt.format === 3 && fmt.bits === 32) out[i] = buf.readFloatLE(p);
        else if (fmt.format !== 1) fail(`wav format ${fmt.format} (PCM and float32 are read)`);
        else if (fmt.bits === 16) out[i] = buf.readInt16LE(p) / 32768;
        else if (fmt.bits === 8) out[i] = (buf[p] - 128) / 128;
        else if (fmt.bits === 24) out[i] = buf.readIntLE(p, 3) / 8388608;
        else if (fmt.bits === 32) out[i] = buf.readInt32LE(p) / 2147483648;
        else fail(`${fmt.bits}-bit PCM`);
      }
      return { rate: fmt.rate, samples: out };
    }
    at = body + size + (size & 1);
  }
  return fail('no data chunk');
}

// The model input of one recording: [1, n] float32, values * `wavScale` (32768 gives int16
// scale, which openWakeWord's melspectrogram expects). Only 16 kHz files.
function wavTensor(file, { wavScale = 1, rate = 16000 } = {}) {
  const wav = decodeWav(file);
  if (wav.rate !== rate) throw new Error(`${file}: ${wav.rate} Hz; the model takes ${rate} Hz recordings (resample with sox)`);
  const data = new Float32Array(wav.samples.length);
  for (let i = 0; i < data.length; i++) data[i] = wav.samples[i] * wavScale;
  return { type: 'float32', dims: [1, data.length], data };
}

// Converts every image (or wav) of `srcDir` into <outDir>/<name>.npz holding `inputName`.
// Returns the files written.
function convertMedia(srcDir, outDir, inputName, kind, opts) {
  const files = fs.readdirSync(srcDir).filter((f) => (kind === 'images' ? IMAGE_EXT : WAV_EXT).test(f)).sort();
  if (files.length === 0) throw new Error(`${srcDir}: no ${kind === 'images' ? '.png/.jpg' : '.wav'} files`);
  fs.mkdirSync(outDir, { recursive: true });
  const written = [];
  for (const f of files) {
    const t = kind === 'images' ? imageTensor(path.join(srcDir, f), opts) : wavTensor(path.join(srcDir, f), opts);
    const out = path.join(outDir, `${f.replace(/\.[^.]+$/, '')}.npz`);
    writeNpz(out, { [inputName]: t });
    written.push(out);
  }
  return written;
}

module.exports = { decodeImage, resizeRgb, imageTensor, decodeWav, wavTensor, convertMedia };

// Runs 2-D AveragePool models (input x [N, C, H, W], output y) in ONNX Runtime on seeded inputs
// and counts the output elements that differ from a plain float32 reference: the window's
// elements summed one by one (row by row) in float32, divided by the number of elements counted
// (padding excluded, count_include_pad=0).
// usage: node averagepool-reference.js --kernel KH,KW --strides SH,SW --pads T,L,B,R A.onnx ...
const path = require('path');
const ort = require(path.join(__dirname, '../../../eval/node_modules/onnxruntime-node'));

function parseArgs(argv) {
  const opts = {kernel: [2, 2], strides: [1, 1], pads: [0, 0, 0, 0], models: []};
  for (let i = 0; i < argv.length; ++i) {
    const flag = argv[i].replace(/^--/, '');
    if (flag in opts && flag !== 'models') {
      opts[flag] = argv[++i].split(',').map(Number);
    } else {
      opts.models.push(argv[i]);
    }
  }
  return opts;
}

function reference(x, [n, c, h, w], {kernel, strides, pads}, [oh, ow]) {
  const f = Math.fround;
  const y = new Float32Array(n * c * oh * ow);
  for (let plane = 0; plane < n * c; ++plane) {
    for (let py = 0; py < oh; ++py) {
      const h0 = Math.max(py * strides[0] - pads[0], 0);
      const h1 = Math.min(py * strides[0] - pads[0] + kernel[0], h);
      for (let px = 0; px < ow; ++px) {
        const w0 = Math.max(px * strides[1] - pads[1], 0);
        const w1 = Math.min(px * strides[1] - pads[1] + kernel[1], w);
        let sum = 0;
        for (let i = h0; i < h1; ++i) {
          for (let j = w0; j < w1; ++j) sum = f(sum + x[plane * h * w + i * w + j]);
        }
        y[(plane * oh + py) * ow + px] = f(sum / ((h1 - h0) * (w1 - w0)));
      }
    }
  }
  return y;
}

(async () => {
  const opts = parseArgs(process.argv.slice(2));
  for (const model of opts.models) {
    const session = await ort.InferenceSession.create(model, {graphOptimizationLevel: 'disabled'});
    const dims = [1, 8, 12, 20];
    const x = new Float32Array(dims.reduce((a, b) => a * b));
    let seed = 12345;
    for (let i = 0; i < x.length; ++i) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      x[i] = Math.fround((seed / 2147483648) * 2 - 1);
    }
    const y = (await session.run({x: new ort.Tensor('float32', x, dims)})).y;
    const expected = reference(x, dims, opts, y.dims.slice(2));
    let differing = 0;
    for (let i = 0; i < expected.length; ++i) differing += y.data[i] !== expected[i];
    console.log(`${path.basename(model)}: ${differing} of ${expected.length} elements differ ` +
                `from the float32 sum / count reference`);
  }
})().catch((e) => {
  console.error(e.message);
  process.exit(1);
});

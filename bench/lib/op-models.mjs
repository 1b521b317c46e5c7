// Single-op models for bench/op-latency.mjs: classifies a node of a real model into an op kind
// (passes/integer/ort_latency.json's `kind`), and writes two ONNX text models of it with the
// node's own shapes and attributes: fp32 (float input, float weights) and the QDQ int8 form
// that quantize-activations emits and ONNX Runtime fuses (uint8 input -> DequantizeLinear ->
// op with int8 per-channel weights and an int32 bias -> QuantizeLinear -> uint8 output). The
// int8 model starts and ends in uint8, so its time is the op's time inside a quantized chain;
// the cost of entering and leaving one is measured separately (boundaryModels).
import { attrOf } from './graph-text.mjs';

const prod = (dims) => dims.reduce((a, b) => a * b, 1);
const dimsText = (dims) => dims.join('x');
const UNARY = { Sigmoid: 'sigmoid', HardSigmoid: 'hard-sigmoid', HardSwish: 'hard-swish', Relu: 'relu',
  LeakyRelu: 'leaky-relu', Clip: 'clip', GlobalAveragePool: 'global-average-pool', MaxPool: 'max-pool',
  AveragePool: 'average-pool', Softmax: 'softmax', Transpose: 'transpose', Resize: 'resize' };
const BINARY = { Add: 'add', Mul: 'mul', Sub: 'sub', Div: 'div', Concat: 'concat' };

// {kind, macs, shape, roles} for a node whose inputs and output have static shapes, else null.
// roles[i]: 'act' (an activation: graph input), 'weight' (quantized per channel in int8),
// 'bias' (int32 in int8), 'qconst' (a float constant quantized to uint8 in int8), 'keep'
// (copied as is: shapes, scales, Clip bounds), '' (absent).
export function classify(node, values) {
  const info = (n) => (n === '' ? null : values.get(n));
  const ins = node.inputs.map(info);
  const out = info(node.outputs[0]);
  if (!out || !out.dims || out.dims.some((d) => typeof d !== 'number') || out.type !== 'float') return null;
  for (let i = 0; i < ins.length; i++) {
    const v = ins[i];
    if (node.inputs[i] === '') continue;
    if (!v || !v.dims || v.dims.some((d) => typeof d !== 'number')) return null;
    if (v.constant && v.literal === undefined && !(v.type === 'float')) return null;
  }
  const x = ins[0];
  const isConst = (i) => ins[i] && ins[i].constant;
  const roles = node.inputs.map((n, i) => (n === '' ? '' : isConst(i) ? 'qconst' : 'act'));
  const op = node.op;
  if (op === 'Conv' || op === 'ConvTranspose') {
    if (!isConst(1) || x.dims.length < 3) return null;
    const w = ins[1].dims;
    const g = attrOf(node.attrs, 'group', 1);
    const s = attrOf(node.attrs, 'strides', [1]);
    const k = w.slice(2);
    const c = x.dims[1];
    let kind;
    if (op === 'ConvTranspose') kind = 'conv-transpose';
    else if (g === 1) kind = k.every((d) => d === 1) ? 'conv-pointwise' : 'conv';
    else kind = g === c ? 'conv-depthwise' : 'conv-grouped';
    const macs = op === 'Conv' ? prod(out.dims) * prod(w.slice(1)) : prod(x.dims) * prod(w.slice(1));
    roles[1] = 'weight';
    if (roles[2] !== undefined && roles[2] !== '') { if (!isConst(2)) return null; roles[2] = 'bias'; }
    const shape = `${dimsText(x.dims)} k${k.join('x')} s${Math.max(...s)} g${g} -> ${out.dims[1]}`;
    return { kind, macs, shape, roles };
  }
  if (op === 'MatMul' || op === 'Gemm') {
    const a = x.dims;
    const b = ins[1].dims;
    const transB = attrOf(node.attrs, 'transB', 0);
    const kdim = op === 'Gemm' && attrOf(node.attrs, 'transA', 0) ? a[0] : a[a.length - 1];
    const n = op === 'Gemm' && transB ? b[0] : b[b.length - 1];
    const macs = (prod(out.dims) / n) * kdim * n;
    if (isConst(1)) roles[1] = 'weight';
    if (op === 'Gemm' && roles[2]) { if (!isConst(2)) return null; roles[2] = 'bias'; }
    const shape = `${dimsText(a)} x ${dimsText(b)}${transB ? ' tB' : ''}${isConst(1) ? '' : ' (activations)'}`;
    return { kind: op === 'Gemm' ? 'gemm' : isConst(1) ? 'matmul' : 'matmul-activations', macs, shape, roles };
  }
  if (BINARY[op]) {
    if (ins.every((v, i) => !v || isConst(i))) return null;
    // A scalar constant is folded into Q/DQ parameters by quantize-activations, never quantized.
    for (let i = 0; i < ins.length; i++) if (isConst(i) && prod(ins[i].dims) === 1) roles[i] = 'keep';
    if (op !== 'Concat' && roles.some((r) => r === 'keep')) return null;
    const shape = ins.map((v, i) => (isConst(i) ? `const ${dimsText(v.dims)}` : dimsText(v.dims))).join(' + ')
      + (op === 'Concat' ? ` axis ${attrOf(node.attrs, 'axis', 0)}` : '');
    return { kind: BINARY[op], macs: prod(out.dims), shape, roles };
  }
  if (UNARY[op]) {
    if (isConst(0)) return null;
    for (let i = 1; i < roles.length; i++) if (roles[i]) { if (ins[i].literal === undefined) return null; roles[i] = 'keep'; }
    let macs = prod(out.dims);
    if (op === 'GlobalAveragePool') macs = prod(x.dims);
    if (op === 'MaxPool' || op === 'AveragePool') macs *= prod(attrOf(node.attrs, 'kernel_shape', [1]));
    let shape = dimsText(x.dims);
    if (op === 'Resize') shape += ` -> ${dimsText(out.dims)} ${attrOf(node.attrs, 'mode', 'nearest')}`;
    if (op === 'MaxPool' || op === 'AveragePool') shape += ` k${attrOf(node.attrs, 'kernel_shape', []).join('x')} s${Math.max(...attrOf(node.attrs, 'strides', [1]))}`;
    return { kind: UNARY[op], macs, shape, roles };
  }
  return null;
}

let seed = 1;
function int8Hex(count, lo, hi) {
  // A small LCG is enough: the values only need to look like weights to the kernels.
  let s = (seed++ * 2654435761) >>> 0;
  const buf = Buffer.alloc(count);
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    buf[i] = (lo + (s >>> 8) % (hi - lo + 1)) & 0xff;
  }
  return `hex"${buf.toString('hex')}"`;
}

const X_SCALE = 0.02;
const W_SCALE = 0.008;
const header = (extra = '') => `<\n  ir_version: 10,\n  opset_import: ["" : 21${extra}]\n>\n`;
const t = (type, dims) => (dims.length ? `${type}[${dims.join(',')}]` : type);

// Returns { fp32, int8 } ONNX texts and the input list of each ({name, type, dims}).
export function buildModels(node, values, roles) {
  const out = values.get(node.outputs[0]);
  const inits = { fp32: [], int8: [] };
  const feeds = { fp32: [], int8: [] };
  const pre = [];
  const args = { fp32: [], int8: [] };
  const wAxis = node.op === 'ConvTranspose' ? 1
    : node.op === 'Gemm' ? (attrOf(node.attrs, 'transB', 0) ? 0 : 1) : node.op === 'MatMul' ? -1 : 0;
  node.inputs.forEach((name, i) => {
    const role = roles[i];
    const v = values.get(name);
    const id = `in${i}`;
    if (role === '') { args.fp32.push(''); args.int8.push(''); return; }
    if (role === 'act') {
      feeds.fp32.push({ name: id, type: 'float32', dims: v.dims });
      feeds.int8.push({ name: id, type: 'uint8', dims: v.dims });
      pre.push(`  ${id}_f = DequantizeLinear (${id}, xs, xz)`);
      args.fp32.push(id); args.int8.push(`${id}_f`);
      return;
    }
    if (role === 'keep') {
      const lit = `  ${t(v.type, v.dims)} ${id} = ${v.literal}`;
      inits.fp32.push(lit); inits.int8.push(lit);
      args.fp32.push(id); args.int8.push(id);
      return;
    }
    const n = prod(v.dims);
    inits.fp32.push(`  ${t('float', v.dims)} ${id} = randn(seed: ${i + 1}, std: 0.05)`);
    args.fp32.push(id);
    if (role === 'weight') {
      const axis = wAxis < 0 ? v.dims.length - 1 : wAxis;
      const channels = v.dims[axis];
      inits.int8.push(`  ${t('int8', v.dims)} ${id}_q = ${int8Hex(n, -63, 63)}`);
      // The zero point is spelled out: ORT's QDQ selectors leave a DequantizeLinear without one
      // unfused (measured: Gemm stays float with it absent, becomes QGemm with it present).
      inits.int8.push(`  float[${channels}] ${id}_s = constant(${W_SCALE})`);
      inits.int8.push(`  int8[${channels}] ${id}_z = constant(0)`);
      pre.push(`  ${id}_f = DequantizeLinear <axis = ${axis}> (${id}_q, ${id}_s, ${id}_z)`);
    } else if (role === 'bias') {
      // int32 with scale s_x * s_w[c] (a constant: ORT's QDQ selectors want constant scales).
      inits.int8.push(`  ${t('int32', v.dims)} ${id}_q = arange(start: -${Math.floor(n / 2)}, step: 1)`);
      inits.int8.push(`  float[${n}] ${id}_s = constant(${X_SCALE * W_SCALE})`);
      pre.push(`  ${id}_f = DequantizeLinear <axis = 0> (${id}_q, ${id}_s)`);
    } else {
      inits.int8.push(`  ${t('uint8', v.dims)} ${id}_q = ${int8Hex(n, 0, 255)}`);
      pre.push(`  ${id}_f = DequantizeLinear (${id}_q, xs, xz)`);
    }
    args.int8.push(`${id}_f`);
  });
  const attrs = node.attrs ? ` <${node.attrs}>` : '';
  const sig = (kind) => feeds[kind].map((f) => `${t(kind === 'fp32' ? 'float' : 'uint8', f.dims)} ${f.name}`).join(', ');
  const fp32 = `${header()}single (${sig('fp32')}) => (${t('float', out.dims)} y)\n<\n${inits.fp32.join(',\n')}\n>\n{\n`
    + `  y = ${node.op}${attrs} (${args.fp32.join(', ')})\n}\n`;
  const qparams = [`  float xs = {${X_SCALE}}`, '  uint8 xz = {128}', '  float ys = {0.05}', '  uint8 yz = {128}'];
  const int8 = `${header()}single (${sig('int8')}) => (${t('uint8', out.dims)} y)\n<\n${[...qparams, ...inits.int8].join(',\n')}\n>\n{\n`
    + `${pre.join('\n')}\n  y_f = ${node.op}${attrs} (${args.int8.join(', ')})\n  y = QuantizeLinear (y_f, ys, yz)\n}\n`;
  return { fp32, int8, feeds };
}

// QuantizeLinear (float -> uint8) and DequantizeLinear (uint8 -> float) of one tensor: the cost
// of entering or leaving a quantized region.
export function boundaryModels(shape) {
  const dims = shape.join(',');
  const q = `${header()}q (float[${dims}] x) => (uint8[${dims}] y)\n<\n  float s = {0.02},\n  uint8 z = {128}\n>\n{\n  y = QuantizeLinear (x, s, z)\n}\n`;
  const dq = `${header()}dq (uint8[${dims}] x) => (float[${dims}] y)\n<\n  float s = {0.02},\n  uint8 z = {128}\n>\n{\n  y = DequantizeLinear (x, s, z)\n}\n`;
  return { q, dq, feedsQ: [{ name: 'x', type: 'float32', dims: shape }], feedsDq: [{ name: 'x', type: 'uint8', dims: shape }] };
}

// bench/op-latency.mjs's pieces: the text reader finds the nodes, shapes and attributes of an
// onnx-opt text dump; classify names the op kinds (dense, pointwise, depthwise, grouped Conv,
// MatMul on weights or activations, elementwise with a constant) with the right MAC counts; the
// int8 single-op models are what ONNX Runtime fuses into its integer kernels (the table would
// otherwise time DequantizeLinear + float op + QuantizeLinear) and compute what the fp32 model
// computes up to quantization.
import test from 'node:test';
import assert from 'node:assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseGraphText, loadPrepared } from '../lib/graph-text.mjs';
import { classify, buildModels } from '../lib/op-models.mjs';
import { createSession, onnxOptBin } from '../lib/timing.mjs';

const MODEL = `<
  ir_version: 10,
  opset_import: ["" : 17]
>
main (float[1,8,16,16] x, float[1,8,16,16] u, float[2,7] a, float[7,2] a2) => (float[1,8,16,16] pw, float[1,8,8,8] dw, float[1,8,16,16] gr, float[1,8,16,16] s, float[1,8,16,16] sum, float[2,5] mm, float[2,2] aa)
<
  float[8,8,3,3] w = randn(seed: 1, std: 0.1),
  float[8] b = randn(seed: 2, std: 0.1),
  float[8,8,1,1] wp = randn(seed: 3, std: 0.1),
  float[8,1,3,3] wd = randn(seed: 4, std: 0.1),
  float[8,4,3,3] wg = randn(seed: 5, std: 0.1),
  float[1,8,1,1] c = randn(seed: 6, std: 0.1),
  float[7,5] wm = randn(seed: 8, std: 0.1)
>
{
  d = Conv <pads = [1, 1, 1, 1]> (x, w, b)
  pw = Conv (d, wp, b)
  dw = Conv <group = 8, strides = [2, 2], pads = [1, 1, 1, 1]> (d, wd, b)
  gr = Conv <group = 2, pads = [1, 1, 1, 1]> (d, wg)
  s = Mul (d, c)
  sum = Add (d, u)
  mm = MatMul (a, wm)
  aa = MatMul (a, a2)
}`;

function prepared() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'op-models-test-'));
  const src = path.join(dir, 'm.onnxtxt');
  fs.writeFileSync(src, MODEL);
  return { dir, g: loadPrepared(onnxOptBin(), src, 'infer-shapes') };
}

test('the text reader and classify: kinds, shapes, MACs', () => {
  const { g } = prepared();
  const kinds = Object.fromEntries(g.nodes.map((n) => [n.outputs[0], classify(n, g.values)]));
  assert.strictEqual(kinds.d.kind, 'conv');
  assert.strictEqual(kinds.d.macs, 8 * 16 * 16 * 8 * 9);
  assert.deepStrictEqual(kinds.d.roles, ['act', 'weight', 'bias']);
  assert.strictEqual(kinds.d.shape, '1x8x16x16 k3x3 s1 g1 -> 8');
  assert.strictEqual(kinds.pw.kind, 'conv-pointwise');
  assert.strictEqual(kinds.dw.kind, 'conv-depthwise');
  assert.strictEqual(kinds.dw.macs, 8 * 8 * 8 * 9);
  assert.strictEqual(kinds.gr.kind, 'conv-grouped');
  assert.strictEqual(kinds.gr.macs, 8 * 16 * 16 * 4 * 9);
  assert.strictEqual(kinds.s.kind, 'mul');
  assert.deepStrictEqual(kinds.s.roles, ['act', 'qconst']);
  assert.strictEqual(kinds.sum.kind, 'add');
  assert.deepStrictEqual(kinds.sum.roles, ['act', 'act']);
  assert.strictEqual(kinds.mm.kind, 'matmul');
  assert.strictEqual(kinds.mm.macs, 2 * 7 * 5);
  assert.strictEqual(kinds.aa.kind, 'matmul-activations');
  assert.deepStrictEqual(kinds.aa.roles, ['act', 'act']);
  const quoted = parseGraphText('<\n  ir_version: 10,\n  opset_import: ["" : 21]\n>\nm (float[1,2] "in.1") => (float[1,2] "o:1")\n{\n  ["n 1"] "o:1" = Relu ("in.1")\n}\n');
  assert.deepStrictEqual(quoted.nodes[0], { name: 'n 1', op: 'Relu', outputs: ['o:1'], inputs: ['in.1'], attrs: '' });
  assert.deepStrictEqual(quoted.values.get('in.1').dims, [1, 2]);
});

async function ortOps(file, dir) {
  const optimized = path.join(dir, `${path.basename(file)}.opt.onnx`);
  await createSession(file, { optimizedModelFilePath: optimized });
  const r = spawnSync(onnxOptBin(), [optimized, '--emit=text', '--elide-tensors-larger-than=0'], { encoding: 'utf8' });
  return parseGraphText(r.stdout).nodes.map((n) => n.op.replace(/^com\.microsoft\./, ''));
}

test('int8 single-op models are fused by ONNX Runtime into its integer kernels', async () => {
  const { dir, g } = prepared();
  const fused = { d: 'QLinearConv', dw: 'QLinearConv', s: 'QLinearMul', sum: 'QLinearAdd', mm: 'QLinearMatMul' };
  for (const [out, kernel] of Object.entries(fused)) {
    const node = g.nodes.find((n) => n.outputs[0] === out);
    const m = buildModels(node, g.values, classify(node, g.values).roles);
    for (const [kind, text] of [['fp32', m.fp32], ['int8', m.int8]]) {
      const src = path.join(dir, `${out}.${kind}.onnxtxt`);
      fs.writeFileSync(src, text);
      const r = spawnSync(onnxOptBin(), [src, '-o', src.replace('.onnxtxt', '.onnx')], { encoding: 'utf8' });
      assert.strictEqual(r.status, 0, r.stderr);
    }
    const ops = await ortOps(path.join(dir, `${out}.int8.onnx`), dir);
    assert.ok(ops.includes(kernel), `${out}: ORT ran ${ops.join(',')}, not ${kernel}`);
    assert.ok(!ops.includes('DequantizeLinear'), `${out}: a DequantizeLinear is left: ${ops.join(',')}`);
    assert.deepStrictEqual(m.feeds.int8.map((f) => f.type), m.feeds.fp32.map(() => 'uint8'));
  }
});

#!/usr/bin/env node
// Saves the graph ONNX Runtime runs after its own optimizations, to see which QDQ groups it
// fused into integer kernels:  node ort_optimized.js IN.onnx OUT.onnx [--level extended|all]
// (`extended` keeps the ONNX layout, so QLinearConv/QLinearMatMul/QGemm... stay readable.)
'use strict';
const path = require('path');
const ort = require(path.join(__dirname, '../../../eval/node_modules/onnxruntime-node'));

async function main() {
  const [input, output, flag, level] = process.argv.slice(2);
  if (!input || !output || (flag && flag !== '--level')) {
    console.error('usage: ort_optimized.js IN.onnx OUT.onnx [--level extended|all]');
    process.exit(2);
  }
  await ort.InferenceSession.create(input, {
    graphOptimizationLevel: level || 'extended',
    optimizedModelFilePath: output,
    intraOpNumThreads: 1,
  });
}
main().catch((e) => {
  console.error(`ort_optimized: error: ${String(e.message).split('\n')[0]}`);
  process.exit(2);
});

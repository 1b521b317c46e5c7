// Probe pipelines for output sensitivity: one weight quantized at a time (`weights=` regex), as
// onnx-opt-calibrate --what sensitivity and eval/sensitivity.js run them.
'use strict';

// A pipeline option value in double quotes (passes/core/pipeline.cc: backslash escapes the next char).
const quoteOption = (s) => `"${s.replace(/[\\"]/g, '\\$&')}"`;
// A regex matching exactly `name`.
const regexExact = (name) => `^${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`;

// The probe pipeline with extra options added to its last pass (quantize-weights); throws
// unless the pipeline ends with quantize-weights.
function withOptions(probe, extra) {
  const t = probe.trim();
  if (!/^[\s\S]*quantize-weights(\{[^]*\})?$/.test(t)) throw new Error(`probe must end with quantize-weights{...}: ${probe}`);
  return t.endsWith('}') ? `${t.slice(0, -1)},${extra}}` : `${t}{${extra}}`;
}

// Noise energy of `outs` against `refs` (lists of {name: Float32Array} per sample), relative to
// the reference energy, summed over the outputs.
function relativeNoise(refs, outs) {
  const sig = new Map(), err = new Map();
  refs.forEach((r, i) => {
    for (const [k, ref] of Object.entries(r)) {
      const q = outs[i][k];
      let s = 0, e = 0;
      for (let j = 0; j < ref.length; j++) { const d = ref[j] - q[j]; s += ref[j] * ref[j]; e += d * d; }
      sig.set(k, (sig.get(k) || 0) + s); err.set(k, (err.get(k) || 0) + e);
    }
  });
  let noise = 0;
  for (const [k, s] of sig) noise += s > 0 ? err.get(k) / s : 0;
  return noise;
}

module.exports = { quoteOption, regexExact, withOptions, relativeNoise };

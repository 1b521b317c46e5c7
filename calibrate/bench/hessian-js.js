// Why the Hessians are accumulated in C++: this loop in JS (node calibrate/bench/hessian-js.js 576).
// H += X^T X for X: 2048 x K float32 rows, in JS (Float64Array H, lower triangle), as the tool would.
const K = +process.argv[2] || 576, P = 2048;
const X = Float32Array.from({ length: P * K }, () => Math.random() - 0.5);
const H = new Float64Array(K * K);
const t0 = process.hrtime.bigint();
for (let p = 0; p < P; p++) {
  const o = p * K;
  for (let i = 0; i < K; i++) { const xi = X[o + i]; const r = i * K; for (let j = 0; j <= i; j++) H[r + j] += xi * X[o + j]; }
}
const s = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(`K=${K}: ${s.toFixed(3)} s, ${(P * K * (K + 1) / 2 / s / 1e9).toFixed(2)} G mult-add/s`);

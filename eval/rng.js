'use strict';
// mulberry32: a small seeded PRNG, identical on every platform, so the same seed gives the same
// model inputs in every tool (eval/compare.js, lit-tests/quantize/Inputs/output_sqnr.js).
// Returns a function yielding uniform numbers in [0, 1).
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

module.exports = { rng };

// Batched runs for onnx-opt-calibrate: several samples per ONNX Runtime call, with the outputs
// split back into one set per sample, so the helper sees exactly the samples it would see
// unbatched (its per-sample position subsampling and held-out halves stay the same).
//
// A batch joins consecutive samples whose inputs all have the same shapes, along the first axis,
// and only when every model input's first dimension is symbolic. Each output of a batch of B
// must have B times the first dimension it has for one sample of those shapes (learned from two
// single runs per shape signature) and is cut into B equal slices along it, or be the same for
// both single runs (a constant, or a value computed from the input shapes), when the single run's
// value stands for every sample; any other float output (a batch that is not the outer axis, e.g.
// after a Transpose, or a reduction over it) makes the tool run the batch's samples one by one
// and stop batching.
'use strict';

// True when every input's first dimension is symbolic (a name, '?' or '-1').
function batchable(inputs) {
  return inputs.length > 0 && inputs.every((i) => Array.isArray(i.shape) && i.shape.length > 0 && !/^\d+$/.test(String(i.shape[0])));
}

const signature = (feeds) => Object.keys(feeds).sort().map((k) => `${k}:${feeds[k].dims.join('x')}`).join(';');

// Joins the feeds of `group` (objects of ort.Tensor) along the first axis.
function joinFeeds(ort, group) {
  const out = {};
  for (const name of Object.keys(group[0])) {
    const parts = group.map((f) => f[name]);
    const total = parts.reduce((n, t) => n + t.data.length, 0);
    const data = new parts[0].data.constructor(total);
    let at = 0;
    for (const t of parts) { data.set(t.data, at); at += t.data.length; }
    const dims = parts[0].dims.slice();
    dims[0] = parts.reduce((n, t) => n + Number(t.dims[0]), 0);
    out[name] = new ort.Tensor(parts[0].type, data, dims);
  }
  return out;
}

const sameValues = (x, y) => x.length === y.length && x.every((v, i) => Object.is(v, y[i]));
const STREAMED = new Set(['float32', 'float16']);  // what the helper and sensitivity read

// What one sample of a shape signature gives, from two single runs: per float output its dims,
// and the outputs that are the same for both samples (constants, and values computed from the
// input shapes, e.g. a Cast of a Shape): those are taken from the single run, not the batch,
// whose shapes differ.
function referenceOf(first, second) {
  const ref = {};
  for (const [name, t] of Object.entries(first)) {
    if (!STREAMED.has(t.type)) continue;
    const u = second[name];
    const fixed = u && t.dims.join() === u.dims.join() && sameValues(t.data, u.data);
    ref[name] = { dims: t.dims.map(Number), fixed: fixed ? t : null };
  }
  return ref;
}

// The per-sample results of a batch of `count`, or null when a float output neither is fixed (and
// of the same dims in the batch) nor splits into `count` slices along its first axis.
function splitResults(res, count, ref) {
  const per = Array.from({ length: count }, () => ({}));
  for (const [name, t] of Object.entries(res)) {
    if (!STREAMED.has(t.type)) continue;
    const one = ref[name];
    if (!one) return null;
    const dims = t.dims.map(Number);
    // Fixed only when the batch does not scale it (a ReLU output that happened to be zero for
    // both single runs is sliced like any other).
    if (one.fixed && dims.join() === one.dims.join()) {
      for (let b = 0; b < count; b++) per[b][name] = one.fixed;
      continue;
    }
    if (dims.length === 0 || dims[0] !== count * one.dims[0] || dims.slice(1).join() !== one.dims.slice(1).join()) return null;
    const step = t.data.length / count;
    for (let b = 0; b < count; b++) {
      per[b][name] = { type: t.type, dims: one.dims, data: t.data.subarray(b * step, (b + 1) * step) };
    }
  }
  return per;
}

// Runs `files` through `sess`, calling `onSample(feeds, results)` once per sample in order.
// `load(file)` gives a sample's feeds. A batch holds at most `batch` samples and at most
// `maxBatchBytes` of results (the exposed activations of a large model are big). Returns
// {runs, largest}: ONNX Runtime calls made and the most samples one call held.
async function runSamples(ort, sess, files, fetch, { inputs, batch, load, onSample, warn, maxBatchBytes = 512e6 }) {
  let useBatches = batch > 1 && batchable(inputs);
  // Per shape signature: {limit: samples per batch, runs: single-run results kept, ref}.
  const shapes = new Map();
  let runs = 0, largest = 0, k = 0, pending = null;
  const runOne = async (feeds) => {
    const res = await sess.run(feeds, fetch);
    runs++;
    largest = Math.max(largest, 1);
    const sig = signature(feeds);
    if (useBatches) {
      if (!shapes.has(sig)) {
        const bytes = Object.values(res).reduce((n, t) => n + t.data.byteLength, 0);
        shapes.set(sig, { limit: Math.max(1, Math.min(batch, Math.floor(maxBatchBytes / Math.max(bytes, 1)))), runs: [] });
      }
      const shape = shapes.get(sig);
      if (shape.limit > 1 && !shape.ref) {
        shape.runs.push(res);
        if (shape.runs.length === 2) { shape.ref = referenceOf(...shape.runs); shape.runs = []; }
      }
    }
    await onSample(feeds, res);
  };
  while (k < files.length || pending) {
    const first = pending || load(files[k++]);
    pending = null;
    const sig = signature(first);
    const shape = shapes.get(sig);
    if (!useBatches || !shape || !shape.ref) { await runOne(first); continue; }
    const group = [first];
    while (group.length < shape.limit && k < files.length) {
      const next = load(files[k++]);
      if (signature(next) !== sig) { pending = next; break; }
      group.push(next);
    }
    if (group.length === 1) { await runOne(first); continue; }
    const res = await sess.run(joinFeeds(ort, group), fetch);
    runs++;
    const per = splitResults(res, group.length, shape.ref);
    if (!per) {
      warn('outputs do not split along the first axis of a batch; running one sample per call');
      useBatches = false;
      for (const feeds of group) await runOne(feeds);
      continue;
    }
    largest = Math.max(largest, group.length);
    for (let b = 0; b < group.length; b++) await onSample(group[b], per[b]);
  }
  return { runs, largest };
}

module.exports = { batchable, joinFeeds, splitResults, runSamples };

// Batched runs for onnx-opt-calibrate: several samples per ONNX Runtime call, with the outputs
// split back into one set per sample, so the helper sees exactly the samples it would see
// unbatched (its per-sample position subsampling and held-out halves stay the same).
//
// A batch joins consecutive samples whose inputs all have the same shapes, along the first axis,
// and only when every model input's first dimension is symbolic. Each output of a batch of B
// must have B times the first dimension it has for one sample of those shapes (learned from a
// single run per shape signature) and is cut into B equal slices along it; an output that does
// not (a batch that is not the outer axis, e.g. after a Transpose) makes the tool run the batch's
// samples one by one and stop batching.
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

// The per-sample slices of a batch's results, or null when an output does not split.
function splitResults(res, count, singleDims) {
  const per = Array.from({ length: count }, () => ({}));
  for (const [name, t] of Object.entries(res)) {
    const one = singleDims[name];
    const dims = t.dims.map(Number);
    if (!one || dims.length === 0 || dims[0] !== count * one[0] || t.data.length % count !== 0) return null;
    const step = t.data.length / count;
    for (let b = 0; b < count; b++) {
      per[b][name] = { type: t.type, dims: [one[0], ...dims.slice(1)], data: t.data.subarray(b * step, (b + 1) * step) };
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
  const singleDims = new Map();  // shape signature -> {output: dims of one sample}
  const limit = new Map();  // shape signature -> samples per batch
  let runs = 0, largest = 0, k = 0, pending = null;
  const runOne = async (feeds) => {
    const res = await sess.run(feeds, fetch);
    runs++;
    largest = Math.max(largest, 1);
    const sig = signature(feeds);
    if (!singleDims.has(sig)) {
      singleDims.set(sig, Object.fromEntries(Object.entries(res).map(([n, t]) => [n, t.dims.map(Number)])));
      const bytes = Object.values(res).reduce((n, t) => n + t.data.byteLength, 0);
      limit.set(sig, Math.max(1, Math.min(batch, Math.floor(maxBatchBytes / Math.max(bytes, 1)))));
    }
    await onSample(feeds, res);
  };
  while (k < files.length || pending) {
    const first = pending || load(files[k++]);
    pending = null;
    const sig = signature(first);
    if (!useBatches || !singleDims.has(sig)) { await runOne(first); continue; }
    const group = [first];
    while (group.length < limit.get(sig) && k < files.length) {
      const next = load(files[k++]);
      if (signature(next) !== sig) { pending = next; break; }
      group.push(next);
    }
    if (group.length === 1) { await runOne(first); continue; }
    const res = await sess.run(joinFeeds(ort, group), fetch);
    runs++;
    const per = splitResults(res, group.length, singleDims.get(sig));
    if (!per) {
      warn(`outputs do not split along the first axis of a batch; running one sample per call`);
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

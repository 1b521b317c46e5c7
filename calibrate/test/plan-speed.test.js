// lib/plan-speed.js with a stand-in for onnxruntime-node: the session options it creates the two
// timed sessions with carry --speed-threads and --speed-spinning (the end-to-end test in
// prepare.test.js only sees what the index records).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const path = require('path');
const { measurePlanSpeed } = require('../lib/plan-speed.js');
const { scratch } = require('./helpers.js');

function fakeOrt() {
  const created = [];
  const ort = {
    InferenceSession: {
      create: async (file, options) => {
        created.push({ file, options });
        return { run: async () => ({}), release: async () => {} };
      },
    },
  };
  return { ort, created };
}

// optimize-speed as far as measurePlanSpeed reads it: the report, one node made integer.
function fakeOnnxOpt(input, pipeline, out) {
  const report = /report="?([^",}]+)"?/.exec(pipeline)[1];
  fs.writeFileSync(report, JSON.stringify({ nodes: [{ name: 'conv', decision: 'integer' }] }));
  fs.writeFileSync(out, '');
}

async function plan(options) {
  const dir = scratch();
  const { ort, created } = fakeOrt();
  const doc = await measurePlanSpeed(ort, {
    runOnnxOpt: fakeOnnxOpt, model: path.join(dir, 'm.onnx'), calib: path.join(dir, 'm.calib'),
    samples: [{}], rounds: 7, scratch: dir, ...options,
  });
  return { doc, created };
}

test('plan-speed sessions: 2 threads and ORT spinning by default', async () => {
  const { doc, created } = await plan({});
  assert.strictEqual(created.length, 2);
  for (const { options } of created) {
    assert.strictEqual(options.intraOpNumThreads, 2);
    assert.strictEqual(options.extra, undefined, 'no config entries: ORT spins as by default');
  }
  assert.deepStrictEqual([doc.threads, doc.spinning, doc.integer_nodes], [2, true, ['conv']]);
  assert.ok(doc.speedup > 0);
});

test('plan-speed sessions: --speed-threads 1 --speed-spinning off reach ORT', async () => {
  const { doc, created } = await plan({ threads: 1, spinning: false });
  assert.strictEqual(created.length, 2);
  for (const { options } of created) {
    assert.strictEqual(options.intraOpNumThreads, 1);
    assert.strictEqual(options.extra.session.intra_op.allow_spinning, '0');
  }
  assert.deepStrictEqual([doc.threads, doc.spinning], [1, false]);
});

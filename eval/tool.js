// What the calibration-set tools (sensitivity.js, activations.js) share: one-line errors, flag
// parsing, running onnx-opt, and finding a target's calibration inputs and its models as the
// evaluation quantizes them (upgraded when below configs.json's upgrade opset).
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..');

// `die(msg)`: "<tool>: error: msg" on stderr, exit 2.
function dieFor(tool) {
  return (msg) => {
    console.error(`${tool}: error: ${msg}`);
    process.exit(2);
  };
}

// Positional arguments in `pos`, -h/--help in `help`, and each flag of `flags`
// ({'--limit': ['limit', Number], ...}) converted into its key; anything else dies.
function parseFlags(argv, flags, defaults, die) {
  const a = { pos: [], ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '-h' || k === '--help') a.help = true;
    else if (flags[k]) {
      if (i + 1 >= argv.length) die(`${k} needs a value`);
      const [key, convert] = flags[k];
      a[key] = convert(argv[++i]);
    } else if (k.startsWith('--')) die(`unknown option ${k}`);
    else a.pos.push(k);
  }
  return a;
}

// Prints the usage text (the file's opening comment, lines 2..`lines`) and exits when asked or
// when the positional arguments are not one target.
function usageUnlessOneTarget(a, file, lines) {
  if (!a.help && a.pos.length === 1) return;
  console.error(fs.readFileSync(file, 'utf8').split('\n').slice(1, lines).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(a.help ? 0 : 2);
}

function runOnnxOpt(input, pipeline, output, die) {
  const bin = process.env.ONNX_OPT || path.join(ROOT, 'build', 'driver', 'onnx-opt');
  const r = spawnSync(bin, [input, '-p', pipeline, '-o', output], { encoding: 'utf8' });
  if (r.error) die(`cannot run ${bin}: ${r.error.message}`);
  if (r.status !== 0) die(`onnx-opt -p '${pipeline}' on ${input}: ${(r.stderr || '').trim().split('\n').pop()}`);
}

// The target `id`, its calibration set (from `inputs`, default <cache>/calib, first `limit`
// items when > 0) and the evaluation's upgrade settings. `work` names the cache subfolder of the
// default output folder.
function loadCalibrationTarget(id, inputs, limit, outDir, work, die) {
  const { cacheDir } = require('./run.js');
  const models = JSON.parse(fs.readFileSync(path.join(__dirname, 'models.json'), 'utf8'));
  const cfg = JSON.parse(fs.readFileSync(path.join(__dirname, 'configs.json'), 'utf8'));
  const target = models.targets.find((t) => t.id === id);
  if (!target) die(`unknown target '${id}' (known: ${models.targets.map((t) => t.id).join(', ')})`);
  const cache = cacheDir();
  const inputsDir = path.resolve(inputs || path.join(cache, 'calib'));
  const manPath = path.join(inputsDir, 'inputs.json');
  if (!fs.existsSync(manPath)) die(`no inputs at ${inputsDir} (run /usr/bin/python3 eval/make-inputs.py --calibration)`);
  const set = JSON.parse(fs.readFileSync(manPath, 'utf8')).sets[target.task];
  if (!set) die(`${manPath} has no '${target.task}' set`);
  const items = limit > 0 ? set.items.slice(0, limit) : set.items;
  const out = path.resolve(outDir || path.join(cache, 'work', work, target.id));
  const scratch = path.join(out, 'scratch');
  fs.mkdirSync(scratch, { recursive: true });
  const byId = new Map(models.models.map((m) => [m.id, m]));
  const needsUpgrade = (m) => byId.get(m).opset < cfg.upgrade.below_opset;
  // Member `m` as the evaluation quantizes it (upgraded into the scratch folder when needed).
  const modelFile = (m) => {
    const src = path.join(cache, `${m}.onnx`);
    if (!fs.existsSync(src)) die(`model ${src} missing (scripts/fetch-models.sh ${m})`);
    if (!needsUpgrade(m)) return src;
    const file = path.join(scratch, `${m}.upgraded.onnx`);
    runOnnxOpt(src, cfg.upgrade.pipeline, file, die);
    return file;
  };
  return { target, set, items, inputsDir, outDir: out, scratch, cfg, needsUpgrade, modelFile };
}

module.exports = { dieFor, parseFlags, usageUnlessOneTarget, runOnnxOpt, loadCalibrationTarget };

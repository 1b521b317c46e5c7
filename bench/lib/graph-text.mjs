// Reads the ONNX text that `onnx-opt --emit=text` prints (docs/text-format.md) far enough to list
// every node with the types and shapes of its inputs and outputs: what bench/op-latency.mjs needs
// to find the op kinds and shapes that occur in the evaluation models. Tensor contents are not
// parsed; constants of at most a few elements keep their literal text (Resize scales, Reshape
// shapes), so a single-op model can copy them.
import { spawnSync } from 'node:child_process';

const NAME = String.raw`"(?:[^"\\]|\\.)*"|[A-Za-z_][\w.:]*`;
const ENTRY = new RegExp(String.raw`^\s*([a-z0-9]+)(\[[^\]]*\])?\s+(${NAME})\s*(=\s*(.*?))?,?\s*$`);
const NODE = new RegExp(String.raw`^\s*(?:\[(${NAME})\]\s*)?(.*?)\s+=\s+([A-Za-z][\w.]*)\s*(<.*?>)?\s*\((.*)\)\s*(<.*>)?\s*$`);

export function unquote(name) {
  if (!name.startsWith('"')) return name;
  return name.slice(1, -1).replace(/\\x([0-9a-fA-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)))
    .replace(/\\(.)/g, (_, c) => ({ n: '\n', t: '\t', r: '\r' }[c] ?? c));
}

// Splits "a, , \"b,c\"" into ['a', '', '"b,c"'] (empty slots are absent optional inputs).
export function splitList(text) {
  const out = [];
  let cur = '';
  let inStr = false;
  let depth = 0;  // inside [...] or {...}: dims and literals hold commas too
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inStr) {
      cur += c;
      if (c === '\\') cur += text[++i];
      else if (c === '"') inStr = false;
    } else if (c === '"') { inStr = true; cur += c; }
    else if (c === ',' && depth === 0) { out.push(cur.trim()); cur = ''; }
    else {
      if (c === '[' || c === '{') depth++;
      if (c === ']' || c === '}') depth--;
      cur += c;
    }
  }
  if (cur.trim() !== '' || out.length) out.push(cur.trim());
  return out;
}

function parseDims(brackets) {
  if (!brackets) return [];
  const inner = brackets.slice(1, -1).trim();
  if (inner === '') return null;  // rank unknown
  return splitList(inner).map((d) => (/^\d+$/.test(d) ? Number(d) : unquote(d)));
}

// Parses the header's `(inputs) => (outputs)` lists: each entry is `type[dims] name`.
function parseSignatureList(text) {
  return splitList(text).map((e) => e.match(ENTRY)).filter(Boolean);
}

// Returns { values: Map name -> {type, dims, constant, literal}, inputs, outputs, nodes }.
export function parseGraphText(text) {
  const lines = text.split('\n');
  const values = new Map();
  const nodes = [];
  let inputs = [];
  let outputs = [];
  let section = 'header';
  for (const line of lines) {
    if (section === 'header') {
      const m = line.match(/\((.*)\)\s*=>\s*\((.*)\)\s*$/);
      if (m && !line.trim().startsWith('opset_import')) {
        const add = (list, isInput) => parseSignatureList(list).map((e) => {
          const name = unquote(e[3]);
          values.set(name, { type: e[1], dims: parseDims(e[2]), constant: isInput && e[4] !== undefined });
          return name;
        });
        inputs = add(m[1], true);
        outputs = add(m[2], false);
        section = 'values';
      }
      continue;
    }
    if (section === 'values') {
      if (line.trim() === '{') { section = 'nodes'; continue; }
      const e = line.match(ENTRY);
      if (!e) continue;
      const literal = e[5] !== undefined && !e[5].startsWith('<') ? e[5].replace(/,\s*$/, '') : undefined;
      values.set(unquote(e[3]), { type: e[1], dims: parseDims(e[2]), constant: e[4] !== undefined, literal });
      continue;
    }
    if (line.trim() === '}') break;
    const n = line.replace(/\s+#.*$/, '').match(NODE);
    if (!n) continue;
    const attrs = [n[4], n[6]].filter(Boolean).map((a) => a.slice(1, -1)).join(', ');
    nodes.push({
      name: n[1] ? unquote(n[1]) : '',
      op: n[3],
      outputs: splitList(n[2]).map(unquote),
      inputs: splitList(n[5]).map(unquote),
      attrs,
    });
  }
  return { values, inputs, outputs, nodes };
}

// The value of one integer or integer-list attribute in an attribute text, or `dflt`.
export function attrOf(attrs, key, dflt) {
  const m = attrs.match(new RegExp(String.raw`(?:^|[ ,])${key}\s*=\s*(\[[^\]]*\]|-?[\d.e+-]+|"[^"]*")`));
  if (!m) return dflt;
  const v = m[1];
  if (v.startsWith('[')) return v.slice(1, -1).split(',').filter((s) => s.trim() !== '').map(Number);
  if (v.startsWith('"')) return v.slice(1, -1);
  return Number(v);
}

// Runs onnx-opt on `model` with `pipeline` (none when empty) and returns the parsed text of the result.
export function loadPrepared(onnxOpt, model, pipeline) {
  const r = spawnSync(onnxOpt, [model, ...(pipeline ? ['-p', pipeline] : []), '--emit=text', '--elide-tensors-larger-than=16'],
    { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`onnx-opt ${model} -p '${pipeline}' failed: ${(r.stderr || '').trim().split('\n').pop()}`);
  return parseGraphText(r.stdout);
}

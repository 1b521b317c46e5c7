// node set_plan_speed.js FILE.calib SPEEDUP: sets plan_speed.speedup (and integer_ms to match)
// in the .calib index, a test double for a slower or faster measurement of the same plan; the
// data section is kept.
'use strict';
const fs = require('fs');
const [file, speedup] = process.argv.slice(2);
const bytes = fs.readFileSync(file);
const length = Number(bytes.readBigUInt64LE(8));
const index = JSON.parse(bytes.toString('utf8', 16, 16 + length));
if (!index.plan_speed) throw new Error(`${file}: no plan_speed`);
index.plan_speed.speedup = Number(speedup);
index.plan_speed.integer_ms = +(index.plan_speed.fp32_ms / Number(speedup)).toFixed(4);
let text = JSON.stringify(index);
text += ' '.repeat((8 - (Buffer.byteLength(text) % 8)) % 8);
const head = Buffer.alloc(16);
head.write('OOCALIB1', 0, 'latin1');
head.writeBigUInt64LE(BigInt(Buffer.byteLength(text)), 8);
fs.writeFileSync(file, Buffer.concat([head, Buffer.from(text, 'utf8'), bytes.subarray(16 + length)]));

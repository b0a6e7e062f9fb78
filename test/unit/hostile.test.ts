// Damaged modules never escape the engine as exceptions: every truncation of a real module and
// single-byte damage in its headers gives a result. Where the kernel has a check, its message:
// a file cut inside the section table is refused with "Invalid ELF section header overflow"
// (oracle e3-e6), one shorter than the ELF header with "Invalid ELF header len N" (e2).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadProfileFile } from '../../server/src/kernel/profile-json.js';
import { SimulatedKernel } from '../../server/src/load/kernel.js';

const REPO = path.resolve(__dirname, '..', '..');
const hello = new Uint8Array(fs.readFileSync(path.join(REPO, 'examples/hello/hello.ko')));
const profile = loadProfileFile(path.join(REPO, 'profiles/debian-6.1.0-57-amd64.json'));
const shoff = Number(new DataView(hello.buffer).getBigUint64(40, true));

test('every truncation of the example gives a verdict, with the kernel\'s message', () => {
  for (let n = 1; n < hello.length; n += n < 128 ? 1 : 97) {
    const r = SimulatedKernel.boot(profile).finitModule(hello.subarray(0, n), '', 0);
    assert.equal(r.ret, -1, `length ${n}`);
    assert.equal(r.errnoName, 'ENOEXEC', `length ${n}`);
    if (n < 64) assert.equal(r.lines[0].text, `Invalid ELF header len ${n}`);
    else if (n > shoff) assert.equal(r.lines[0].text, 'Invalid ELF section header overflow');
  }
});

test('a byte flipped anywhere in the headers never throws', () => {
  for (let at = 0; at < 64; at++) {
    for (const v of [0x00, 0xff, 0x7f]) {
      const bad = hello.slice();
      bad[at] = v;
      const r = SimulatedKernel.boot(profile).finitModule(bad, '', 0);
      assert.ok(r.ret === 0 || r.ret === -1);
    }
  }
  for (let at = shoff; at < hello.length; at += 7) {
    const bad = hello.slice();
    bad[at] ^= 0xff;
    const r = SimulatedKernel.boot(profile).finitModule(bad, '', 0);
    assert.ok(r.ret === 0 || r.ret === -1);
    if (r.ret === -1) assert.ok(r.errno > 0);
  }
});

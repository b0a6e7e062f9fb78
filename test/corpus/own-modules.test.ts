// The project's own test modules (test/modules/src, built by scripts/build-modules.sh) on the
// Debian kernels. Expected lines are the kernel's own (kernel-load.md §1.3a and the oracle's
// x3/x4 cases: a 6.1-built module on 6.12 dies at the struct module size check, also with
// flag 1), and the __versions CRCs are those of the cross-ABI table in the corpus notes,
// as Module.symvers of each kernel lists them.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { SimulatedKernel } from '../../server/src/load/kernel.js';
import { ModuleImage } from '../../server/src/module/image.js';
import { oldAbiProfile, profileOf, REL_61, REL_612, testModule } from '../support/corpus.js';

const OWN = ['kmsim_params', 'kmsim_exports', 'kmsim_user', 'kmsim_user_nons', 'kmsim_weak',
  'kmsim_relocs', 'kmsim_relocs_ok', 'kmsim_badreloc'];

function read(file: string) {
  return new Uint8Array(fs.readFileSync(file));
}

test('rejects every 6.1-built own module on 6.12 by struct module size, with and without flag 1',
  () => {
    const p612 = profileOf(REL_612);
    for (const name of OWN) {
      for (const flags of [0, 1]) {
        const k = SimulatedKernel.boot(p612);
        const r = k.finitModule(read(testModule(REL_61, name)), '', flags);
        assert.equal(r.errnoName, 'ENOEXEC', name);
        assert.deepEqual(r.lines, [{ level: 3, text: `module ${name}: .gnu.linkonce.this_module ` +
          "section size must match the kernel's built struct module size at run time" }]);
      }
    }
  });

test('a 6.12-built module on 6.1 fails at module_layout (6.1 has no size check)', () => {
  const k = SimulatedKernel.boot(profileOf(REL_61));
  const r = k.finitModule(read(testModule(REL_612, 'kmsim_params')), '', 0);
  assert.equal(r.errnoName, 'ENOEXEC');
  assert.deepEqual(r.lines.map((l) => l.text),
    ['kmsim_params: disagrees about version of symbol module_layout']);
});

test('__versions CRCs follow the cross-ABI table: -57 matches, -47 and 6.12 differ', () => {
  const image = ModuleImage.open(read(testModule(REL_61, 'kmsim_params')));
  const crcs = new Map(image.versions!.entries.map((e) => [e.name, e.crc]));
  // corpus NOTES §5: module_layout 0x9060323f (-57), 0x160c03af (-47);
  // param_ops_int 0x69e0fbdc (-57), 0xbe3c9997 (-47); __fentry__ the same in all.
  assert.equal(crcs.get('module_layout'), 0x9060323f);
  assert.equal(crcs.get('param_ops_int'), 0x69e0fbdc);
  assert.equal(crcs.get('__fentry__'), 0xbdfb6dbb);
  const p47 = oldAbiProfile();
  assert.equal(p47.moduleLayoutCrc, 0x160c03af);
  assert.equal(p47.exports.get('param_ops_int')?.crc, 0xbe3c9997);
  assert.equal(p47.exports.get('__fentry__')?.crc, 0xbdfb6dbb);
  assert.equal(profileOf(REL_61).exports.get('param_ops_int')?.crc, 0x69e0fbdc);
});

test('own out-of-tree module loads on 6.1 with the out-of-tree and unsigned taints', () => {
  const k = SimulatedKernel.boot(profileOf(REL_61));
  const r = k.finitModule(read(testModule(REL_61, 'kmsim_params')), '', 0);
  assert.equal(r.ret, 0);
  // oracle i13: an out-of-tree unsigned module's first load in a boot.
  assert.deepEqual(r.lines.map((l) => [l.level, l.text]), [
    [4, 'kmsim_params: loading out-of-tree module taints kernel.'],
    [5, 'kmsim_params: module verification failed: signature and/or required key missing ' +
      '- tainting kernel'],
  ]);
  assert.equal(r.taintAfter, 12288);
  assert.equal(r.loaded?.taint, 'OE');
});

test('namespace: a user without MODULE_IMPORT_NS is refused, one with it loads', () => {
  const k = SimulatedKernel.boot(profileOf(REL_61));
  assert.equal(k.finitModule(read(testModule(REL_61, 'kmsim_exports')), '', 0).ret, 0);
  const bad = k.finitModule(read(testModule(REL_61, 'kmsim_user_nons')), '', 0);
  assert.equal(bad.errnoName, 'EINVAL');
  const ns = bad.lines.filter((l) => l.text.includes('from namespace KMSIM'));
  assert.equal(ns.length, 1);
  assert.equal(ns[0].level, 3);
  assert.match(bad.lines.at(-1)!.text, /^kmsim_user_nons: Unknown symbol \S+ \(err -22\)$/);
  assert.equal(k.finitModule(read(testModule(REL_61, 'kmsim_user')), '', 0).ret, 0);
});

test('without its provider loaded, the user module fails with ENOENT per symbol', () => {
  const k = SimulatedKernel.boot(profileOf(REL_61));
  const r = k.finitModule(read(testModule(REL_61, 'kmsim_user')), '', 0);
  assert.equal(r.errnoName, 'ENOENT');
  assert.ok(r.lines.some((l) => /^kmsim_user: Unknown symbol kmsim_\w+ \(err -2\)$/.test(l.text)));
});

test('a weak undefined symbol is not an error', () => {
  const k = SimulatedKernel.boot(profileOf(REL_61));
  assert.equal(k.finitModule(read(testModule(REL_61, 'kmsim_weak')), '', 0).ret, 0);
});

test('R_X86_64_32 against a kernel address overflows; GOTPCREL is unknown to the kernel', () => {
  const k = SimulatedKernel.boot(profileOf(REL_61));
  const r = k.finitModule(read(testModule(REL_61, 'kmsim_relocs')), '', 0);
  assert.equal(r.errnoName, 'ENOEXEC');
  assert.ok(r.lines.some((l) => /^module: overflow in relocation type 10 val [0-9a-f]+$/
    .test(l.text)), JSON.stringify(r.lines));
  assert.ok(r.lines.some((l) => l.text ===
    "module: `kmsim_relocs' likely not compiled with -mcmodel=kernel"));
  const ok = k.finitModule(read(testModule(REL_61, 'kmsim_relocs_ok')), '', 0);
  assert.equal(ok.ret, 0, JSON.stringify(ok.lines));
  const bad = SimulatedKernel.boot(profileOf(REL_61))
    .finitModule(read(testModule(REL_61, 'kmsim_badreloc')), '', 0);
  assert.equal(bad.errnoName, 'ENOEXEC');
  assert.ok(bad.lines.some((l) => l.text === 'module: kmsim_badreloc: Unknown rela relocation: 9'),
    JSON.stringify(bad.lines));
});

// The module view (module/) must read __ksymtab* and __param from the bytes the file holds,
// not from sh_size alone. Found by the fuzzer (test/regressions/): a __ksymtab_gpl whose size
// is 2^51 looped without end in readExports; a __param that runs past the end of the file
// threw a RangeError out of readParams. A NOBITS section passes the kernel's bounds checks, so
// the same damage reached a whole load.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { ElfFormatError } from '../../server/src/elf/index.js';
import { SimulatedKernel } from '../../server/src/load/kernel.js';
import { ModuleImage } from '../../server/src/module/image.js';
import { REL_61, profileOf, testModule } from '../support/corpus.js';
import { layoutOf } from './mutate.js';

const REG = path.resolve(__dirname, '..', 'regressions');
const read = (name: string) => new Uint8Array(fs.readFileSync(path.join(REG, name)));

const decodeError = (section: string) => (e: unknown) => e instanceof ElfFormatError
  && e.message.startsWith(`section `) && e.message.includes(`(${section})`)
  && e.message.includes('run past the end of the file');

test('__ksymtab_gpl of 2^51 bytes: a decoding error, not an endless loop', { timeout: 60_000 },
  () => {
    const image = ModuleImage.open(read('module-ksymtab-size-2p51-hang.ko'));
    assert.throws(() => image.exports, decodeError('__ksymtab_gpl'));
  });

test('__param past the end of the file: a decoding error naming it', () => {
  const image = ModuleImage.open(read('module-param-outside-file.ko'));
  assert.throws(() => image.params, decodeError('__param'));
});

test('a NOBITS __ksymtab of 2^50 bytes passes the kernel checks and the load ends', {
  timeout: 60_000,
}, () => {
  const bytes = new Uint8Array(fs.readFileSync(testModule(REL_61, 'kmsim_exports')));
  const ksymtab = layoutOf(bytes)!.sections.find((s) => s.name === '__ksymtab')!;
  const v = new DataView(bytes.buffer);
  v.setUint32(ksymtab.header + 4, 8, true);
  v.setBigUint64(ksymtab.header + 32, 1n << 50n, true);
  // Allocated, it cannot fit in module space: module_alloc fails.
  const big = SimulatedKernel.boot(profileOf(REL_61)).finitModule(bytes, '', 0);
  assert.equal(big.errnoName, 'ENOMEM');
  assert.equal(big.steps.at(-1)?.step, 'move_module');
  // Not allocated, the load goes through to the end and the table holds no export.
  v.setBigUint64(ksymtab.header + 8, 0n, true);
  const r = SimulatedKernel.boot(profileOf(REL_61)).finitModule(bytes, '', 0);
  assert.equal(r.ret, 0, JSON.stringify(r.lines));
  assert.deepEqual(ModuleImage.open(bytes).exports.filter((e) => e.section === '__ksymtab'), []);
});

// Found by the fuzzer: after the failed load, naming the module read struct module through
// the same malformed relocations, and the ElfFormatError left finit_module() itself.
test('a this_module relocation table of 101 bytes: finit_module answers, naming the table',
  () => {
    const bytes = read('load-this-module-rela-size-101.ko');
    const r = SimulatedKernel.boot(profileOf(REL_61)).finitModule(bytes, '', 0);
    assert.equal(r.errnoName, 'ENOEXEC');
    assert.equal(r.moduleName, 'hello');
    assert.deepEqual(r.findings.map((f) => f.message), ['cannot decode the module: section 30 ' +
      '(.rela.gnu.linkonce.this_module), offset 0x1ec0: size 101 is not a multiple of the ' +
      'entry size 24']);
  });

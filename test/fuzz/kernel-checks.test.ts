// Inputs the fuzzer found that escaped the engine as TypeError/RangeError (test/regressions/),
// with the verdict each must now get. The kernel reads e_shoff and e_shnum literally: with
// e_shnum 0 its name-index check fails first; with e_shoff 0 both series read the name
// table's header at e_shstrndx * 64 (here one of size 0) before section 0: Debian's 6.12.107
// keeps 6.1's order (test/conformance/matrix: elf-shstrtab-offset-past-end).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { ElfFormatError } from '../../server/src/elf/index.js';
import { SimulatedKernel } from '../../server/src/load/kernel.js';
import { ModuleImage } from '../../server/src/module/image.js';
import { loadSeeds } from './seeds.js';

const REG = path.resolve(__dirname, '..', 'regressions');
const read = (name: string) => new Uint8Array(fs.readFileSync(path.join(REG, name)));
const [p61, p612] = loadSeeds().profiles;

function verdict(series: typeof p61, file: string) {
  const r = SimulatedKernel.boot(series).finitModule(read(file), '', 0);
  return { errno: r.errnoName, lines: r.lines.map((l) => l.text) };
}

test('e_shnum 0: refused by the name index check in both series', () => {
  const want = { errno: 'ENOEXEC', lines: [
    'Invalid ELF section name index: 25 || e_shstrndx (25) >= e_shnum (0)'] };
  assert.deepEqual(verdict(p61, 'load-shnum-zero.ko'), want);
  assert.ok(p612, '6.12 profile (run scripts/setup.sh)');
  assert.deepEqual(verdict(p612, 'load-shnum-zero.ko'), want);
});

test('e_shoff 0: the section table is read over the ELF header, as the kernel does', () => {
  assert.deepEqual(verdict(p61, 'load-shoff-zero.ko'),
    { errno: 'ENOEXEC', lines: ['empty section name table'] });
  assert.deepEqual(verdict(p612, 'load-shoff-zero.ko'),
    { errno: 'ENOEXEC', lines: ['empty section name table'] });
});

test('a __kcrctab outside the file is a decoding error naming the section', () => {
  const image = ModuleImage.open(read('module-kcrctab-outside-file.ko'));
  assert.throws(() => image.exports, (e: unknown) => e instanceof ElfFormatError
    && /^section \d+ \(__kcrctab(_gpl)?\), offset 0x[0-9a-f]+: section contents/.test(e.message));
});

// Parameter defaults whose variables live in .bss (SHT_NOBITS). Such a section has no bytes in
// the file: the loader zeroes it, while the file bytes at its sh_offset belong to whatever comes
// next. e1000e's option arrays are the real case: `num_IntMode` and its siblings are
// zero-initialised counts in .bss, so modinfo-style defaults must say "count 0 of 33".

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { SHT_NOBITS } from '../../server/src/elf/index.js';
import { readModuleFile } from '../../server/src/kernel/capture.js';
import { ModuleImage } from '../../server/src/module/image.js';
import { modulesDir, need, REL_612 } from '../support/corpus.js';

const E1000E = 'kernel/drivers/net/ethernet/intel/e1000e/e1000e.ko.xz';

test('e1000e IntMode: the count variable in .bss reads 0, so the default is empty', () => {
  const file = need(path.join(modulesDir(REL_612), E1000E));
  const image = ModuleImage.open(readModuleFile(file));

  // The premise: num_IntMode really is in a NOBITS section whose file bytes are not zero.
  const symbols = image.elf.symbols;
  assert.ok(symbols);
  const sym = symbols.find('num_IntMode');
  assert.ok(sym >= 0);
  const bss = image.elf.sections[symbols.shndx[sym]];
  assert.equal(bss.type, SHT_NOBITS);
  const fileBytes = image.elf.bytes.subarray(bss.offset + symbols.valueLo[sym],
    bss.offset + symbols.valueLo[sym] + 4);
  assert.notDeepEqual([...fileBytes], [0, 0, 0, 0]);

  const intMode = image.params.find((p) => p.name === 'IntMode');
  assert.ok(intMode);
  assert.equal(intMode.type, 'int');
  assert.equal(intMode.arrayMax, 33);
  assert.equal(intMode.arrayCount, 0);
  assert.equal(intMode.defaultValue, '');
  // The elements themselves are initialised data (OPTION_UNSET = -1).
  assert.deepEqual(intMode.arrayDefaults, new Array(33).fill('-1'));
});

test('e1000e: every count-bearing option array starts with count 0', () => {
  const file = need(path.join(modulesDir(REL_612), E1000E));
  const arrays = ModuleImage.open(readModuleFile(file)).params.filter((p) => p.arrayHasCount);
  assert.deepEqual(arrays.map((p) => [p.name, p.arrayCount, p.defaultValue]),
    ['CrcStripping', 'WriteProtectNVM', 'KumeranLockLoss', 'SmartPowerDownEnable', 'IntMode',
      'InterruptThrottleRate', 'RxAbsIntDelay', 'RxIntDelay', 'TxAbsIntDelay', 'TxIntDelay']
      .map((name) => [name, 0, '']));
});

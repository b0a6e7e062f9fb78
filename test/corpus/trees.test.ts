// Whole Debian module trees through the simulated load. Expected verdicts come from the real
// kernels: every module of a Debian kernel package loads on that kernel (it is what Debian
// ships and boots), and Debian's ABI bumps change module_layout's CRC, so no 6.1.0-57 module
// loads on 6.1.0-47 (the real kernel prints "disagrees about version of symbol module_layout",
// as the oracle recorded for a module with a changed module_layout CRC).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkOne, findModules } from '../../server/src/cli/check.js';
import { modulesDir, oldAbiProfile, oldAbiRelease, profileOf, REL_61, REL_612 } from
  '../support/corpus.js';

function runTree(release: string) {
  const profile = profileOf(release);
  const files = findModules([modulesDir(release) + '/kernel']);
  const refused: string[] = [];
  const noisy: string[] = [];
  let relocations = 0;
  let stagingWarnings = 0;
  for (const f of files) {
    const r = checkOne(profile, f, {});
    relocations += r.relocationsApplied;
    if (r.ret !== 0) refused.push(`${f}: ${r.errnoName} ${r.lines[0]?.text ?? ''}`);
    else {
      // Staging drivers carry staging=Y and the kernel warns on every load of one (taint C);
      // any other line from an in-tree module of its own kernel would be a simulator error.
      const staging = `${r.moduleName}: module is from the staging directory, the quality is ` +
        'unknown, you have been warned.';
      const isStaging = f.includes('/drivers/staging/');
      for (const l of r.lines) {
        if (isStaging && l.level === 4 && l.text === staging) stagingWarnings++;
        else noisy.push(`${f}: <${l.level}>${l.text}`);
      }
    }
  }
  return { files, refused, noisy, relocations, stagingWarnings };
}

test('every Debian 6.1.0-57-amd64 module loads on its own kernel, only staging ones warn', () => {
  const { files, refused, noisy, relocations, stagingWarnings } = runTree(REL_61);
  console.log(`tree ${REL_61}: ${files.length - refused.length}/${files.length} load, ` +
    `${relocations} relocations applied`);
  // corpus NOTES: 4,023 modules and 5,671,370 relocations (readelf -r over the tree).
  assert.equal(files.length, 4023);
  assert.deepEqual(refused, []);
  assert.deepEqual(noisy, []);
  assert.equal(relocations, 5671370);
  // corpus NOTES: 12 modules of the tree have staging=Y.
  assert.equal(stagingWarnings, 12);
});

test('every Debian 6.1.0-57-amd64 module is refused by 6.1.0-47 at module_layout', () => {
  const profile = oldAbiProfile();
  const files = findModules([modulesDir(REL_61) + '/kernel']);
  const wrong: string[] = [];
  for (const f of files) {
    const r = checkOne(profile, f, {});
    const name = r.moduleName;
    const expected = `${name}: disagrees about version of symbol module_layout`;
    if (r.errnoName !== 'ENOEXEC' || r.lines.length !== 1 || r.lines[0].text !== expected) {
      wrong.push(`${f}: ${r.errnoName} ${JSON.stringify(r.lines.slice(0, 2))}`);
    }
  }
  console.log(`tree ${REL_61} on ${oldAbiRelease()}: ${files.length - wrong.length}/` +
    `${files.length} refused at module_layout`);
  assert.deepEqual(wrong.slice(0, 10), []);
});

test('every Debian 6.12.107 .ko.xz module loads on its own kernel, only staging ones warn', () => {
  const { files, refused, noisy, relocations } = runTree(REL_612);
  console.log(`tree ${REL_612}: ${files.length - refused.length}/${files.length} load, ` +
    `${relocations} relocations applied`);
  // corpus NOTES: 4,229 .ko.xz modules, 7,918,957 relocations.
  assert.equal(files.length, 4229);
  assert.deepEqual(refused, []);
  assert.deepEqual(noisy, []);
  assert.equal(relocations, 7918957);
});

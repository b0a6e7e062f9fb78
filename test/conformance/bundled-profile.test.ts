// The bundled profile (profiles/debian-6.1.0-57-amd64.json) against the real 6.1.0-57 kernel:
// it carries the size of the vmlinux BTF, so a module's BTF is checked on the default target.
// The expected lines are the ones the oracle recorded (test/conformance/matrix/<release>.json,
// batch this_module-forced): the 6.12-built kmsim_params forced in with a bad parameter.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadProfileFile } from '../../server/src/kernel/profile-json.js';
import { SimulatedKernel } from '../../server/src/load/kernel.js';
import { ownModulePath } from './matrix.js';
import { haveTrees, modulesDirOf, REL61, REL612 } from './oracle-cases.js';
import type { RecordedKernel } from './record.js';

const REPO = path.resolve(__dirname, '../..');
const profile = loadProfileFile(path.join(REPO, 'profiles/debian-6.1.0-57-amd64.json'));
const record = JSON.parse(fs.readFileSync(path.join(__dirname, 'matrix', `${REL61}.json`),
  'utf8')) as RecordedKernel;
const recorded = (id: string) => {
  const c = record.batches.flatMap((b) => b.cases).find((x) => x.id === id);
  if (!c) throw new Error(`no case ${id} in the ${REL61} record`);
  return c;
};
const foreign = ownModulePath(REL612, 'kmsim_params');

test('the bundled profile checks module BTF as the real 6.1.0-57 does', {
  skip: !fs.existsSync(foreign) && 'the project\'s test modules are not built',
}, () => {
  const exp = recorded('this_module-6.12-own-module-bad-parameter-forced');
  const r = SimulatedKernel.boot(profile).finitModule(new Uint8Array(fs.readFileSync(foreign)),
    exp.params, 3);
  assert.deepEqual(r.lines.map((l) => ({ level: l.level, text: l.text })), exp.kmsg);
  assert.equal(r.errnoName, exp.errno_name);
  assert.ok(!r.unknowns.some((u) => /BTF not checked/.test(u)), r.unknowns.join('\n'));
});

test('an in-tree module on the bundled profile has its BTF checked, and loads', {
  skip: !haveTrees() && 'the Debian trees are not in the cache',
}, () => {
  const ko = path.join(modulesDirOf(REL61), 'kernel/fs/nls/nls_utf8.ko');
  const r = SimulatedKernel.boot(profile).finitModule(new Uint8Array(fs.readFileSync(ko)), '', 0);
  assert.equal(r.ret, 0);
  assert.equal(r.steps.find((s) => s.step === 'btf_module_notify')?.outcome, 'ok');
  assert.ok(!r.unknowns.some((u) => /BTF/.test(u)), r.unknowns.join('\n'));
});

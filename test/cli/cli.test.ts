// The kmodsim command line on the bundled example, as a newcomer runs it. The expected kernel
// lines are the kernel's formats (kernel-load.md §1.7, §3) as the oracle recorded them for an
// out-of-tree unsigned module (case i13) and an over-long array (case s9).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

const REPO = path.resolve(__dirname, '..', '..');
const CLI = path.join(REPO, 'server', 'src', 'cli', 'main.ts');
const HELLO = path.join(REPO, 'examples', 'hello', 'hello.ko');

function kmodsim(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args],
    { cwd: REPO, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('insmod of the example on the bundled profile loads with taints O and E', () => {
  const r = kmodsim('insmod', HELLO, '--json');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.loads, true);
  assert.equal(j.errno, 0);
  assert.deepEqual(j.lines.map((l: { text: string }) => l.text), [
    'hello: loading out-of-tree module taints kernel.',
    'hello: module verification failed: signature and/or required key missing - tainting kernel',
  ]);
  assert.equal(j.taint_after, 12288);
});

test('insmod with too many array elements fails with EINVAL and the setter line', () => {
  const r = kmodsim('insmod', HELLO, 'delays=1,2,3,4');
  assert.equal(r.code, 1);
  assert.match(r.out, /kern {2}:err {3}: delays: can only take 3 arguments\n/);
  assert.match(r.out, /hello: `1' invalid for parameter `delays'/);
  assert.match(r.out, /insmod: ERROR: could not insert module .*hello.ko: Invalid parameters/);
});

test('insmod under module.sig_enforce=1 is rejected before anything else', () => {
  const r = kmodsim('insmod', HELLO, '--boot-args', 'module.sig_enforce=1', '--json');
  assert.equal(r.code, 1);
  const j = JSON.parse(r.out);
  assert.equal(j.errno_name, 'EKEYREJECTED');
  assert.deepEqual(j.lines, [{ level: 5, text: 'Loading of unsigned module is rejected' }]);
});

test('check over a directory prints one line per module and a summary', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kmodsim-check-'));
  fs.copyFileSync(HELLO, path.join(dir, 'hello.ko'));
  fs.writeFileSync(path.join(dir, 'broken.ko'), 'this is not an ELF file\n');
  const r = kmodsim('check', dir, '--json');
  assert.equal(r.code, 1);
  const rows = r.out.trim().split('\n').map((l) => JSON.parse(l));
  const byFile = new Map(rows.map((x) => [path.basename(x.file), x]));
  assert.equal(byFile.get('hello.ko').loads, true);
  assert.equal(byFile.get('broken.ko').loads, false);
  // oracle f1: a 24-byte text file is refused at the header length check.
  assert.deepEqual(byFile.get('broken.ko').lines,
    [{ level: 3, text: 'Invalid ELF header len 24' }]);
  assert.match(r.err, /1\/2 modules load on 6\.1\.0-57-amd64/);
});

// More files than one batch: the worker thread takes batches from the shared counter while
// this thread does too, and the lines still come out in file order, the same as one thread's.
test('check over many files gives the same lines in the same order on 1 and 2 threads', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kmodsim-pool-'));
  const names: string[] = [];
  for (let i = 0; i < 40; i++) {
    const name = `m${String(i).padStart(2, '0')}.ko`;
    names.push(name);
    if (i % 7 === 3) fs.writeFileSync(path.join(dir, name), 'this is not an ELF file\n');
    else fs.copyFileSync(HELLO, path.join(dir, name));
  }
  const one = kmodsim('check', dir, '-j', '1');
  const two = kmodsim('check', dir, '-j', '2');
  assert.equal(two.code, 1, two.err);
  assert.equal(two.out, one.out);
  const lines = two.out.trim().split('\n');
  assert.deepEqual(lines.slice(0, -1).map((l) => path.basename(l.split(':')[0])), names);
  assert.match(lines[3], /m03\.ko: ENOEXEC: Invalid ELF header len 24$/);
  assert.equal(lines.at(-1), '34/40 modules load on 6.1.0-57-amd64; 6 refused');
});

test('a missing file is insmod\'s own error (exit 1, as insmod), not a stack trace', () => {
  const r = kmodsim('insmod', '/nonexistent/x.ko');
  assert.equal(r.code, 1);
  assert.match(r.out, /^insmod: ERROR: could not load module \/nonexistent\/x.ko: No such file /);
  assert.equal(r.err, '');
});

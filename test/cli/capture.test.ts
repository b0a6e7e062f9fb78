// `kmodsim profile capture` and `-k DIR` on the fetched Debian trees: inputs that do not fit
// together are refused with the file and what is wrong, never written as a profile.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { headersDir, modulesDir, REL_61, REL_612, REPO } from '../support/corpus.js';

const CLI = path.join(REPO, 'server', 'src', 'cli', 'main.ts');
const HELLO = path.join(REPO, 'examples', 'hello', 'hello.ko');
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'kmodsim-capture-'));
const OUT = path.join(TMP, 'p.json');

function kmodsim(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args],
    { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('6.12 headers with the 6.1 module tree: refused, the two releases named', () => {
  const r = kmodsim('profile', 'capture', headersDir(REL_612), '--modules', modulesDir(REL_61),
    '-o', OUT);
  assert.equal(r.code, 2);
  assert.match(r.err, new RegExp(`the module tree is of kernel ${REL_61} .*the headers of ` +
    `${REL_612.replace(/[.+]/g, '\\$&')}`));
  assert.equal(fs.existsSync(OUT), false);
});

test('--vmlinuz that is not a kernel image is refused, not dropped', () => {
  const r = kmodsim('profile', 'capture', modulesDir(REL_61), '--vmlinuz', HELLO, '-o', OUT);
  assert.equal(r.code, 2);
  assert.match(r.err, /hello\.ko: not a kernel image kmodsim can unpack/);
});

test('--struct-module-size must be a positive number of bytes', () => {
  for (const v of ['-5', 'abc', '0']) {
    const r = kmodsim('profile', 'capture', headersDir(REL_61), '--struct-module-size', v,
      '-o', OUT);
    assert.equal(r.code, 2, v);
    assert.match(r.err, /--struct-module-size <n>' argument '.*' is invalid\. expected a positive/);
  }
});

test('-k a headers dir: its module tree beside it gives struct module; alone it says how', () => {
  const r = kmodsim('insmod', HELLO, '-k', headersDir(REL_61), '--json');
  assert.equal(r.code, 0, r.err);
  assert.equal(JSON.parse(r.out).loads, true);
  const alone = path.join(TMP, 'headers');
  fs.symlinkSync(headersDir(REL_61), alone);
  const a = kmodsim('insmod', HELLO, '-k', alone);
  assert.equal(a.code, 2);
  assert.match(a.err, /a headers directory alone does not give sizeof\(struct module\): give -k /);
  assert.match(a.err, /--struct-module-size N/);
});

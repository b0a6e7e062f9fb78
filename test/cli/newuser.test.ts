// The CLI against what Debian's own tools print for the same files: the real insmod (kmod 30)
// run under strace with finit_module/init_module faked to fail with EBADMSG, so nothing is
// loaded into this machine's kernel and the trace shows whether a system call was made at
// all; the real modinfo; and the kernel lines the load steps print.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

const REPO = path.resolve(__dirname, '..', '..');
const CLI = path.join(REPO, 'server', 'src', 'cli', 'main.ts');
const HELLO = path.join(REPO, 'examples', 'hello', 'hello.ko');
const BADRELOC = path.join(REPO, 'test/modules/build/6.1.0-57-amd64/kmsim_badreloc.ko');
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'kmodsim-newuser-'));
// The tests run in TMP, so relative names are the ones insmod and modinfo print.
const TSX = pathToFileURL(path.join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

function kmodsim(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', TSX, CLI, ...args],
    { cwd: TMP, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

// The real insmod, its module system calls answered EBADMSG by strace without reaching the
// kernel. `called`: the system call insmod made, if any.
function realInsmod(file: string) {
  const r = spawnSync('strace', ['-e', 'trace=finit_module,init_module', '-e',
    'inject=finit_module,init_module:error=EBADMSG', '/usr/sbin/insmod', file],
  { cwd: TMP, encoding: 'utf8', timeout: 20_000 });
  const called = /^(finit_module|init_module)\(/m.exec(r.stderr)?.[1];
  const error = /^insmod: ERROR: .*$/m.exec(r.stderr)?.[0];
  return { called, error };
}

function write(name: string, bytes: Uint8Array | string): string {
  const file = path.join(TMP, name);
  fs.writeFileSync(file, bytes);
  return file;
}

for (const [name, bytes] of [['empty.ko', ''], ['three.ko', 'abc'],
  ['five.ko', '\x7fELF\x02']] as const) {
  test(`insmod of ${name}: refused by kmod before any system call, as the real insmod`, () => {
    const file = write(name, bytes);
    const real = realInsmod(name);
    assert.equal(real.called, undefined);
    const r = kmodsim('insmod', name);
    assert.equal(r.code, 1);
    assert.equal(r.out.split('\n')[0], real.error);
    assert.match(r.out, /no system call/);
    assert.match(r.out, new RegExp(`error: \\[insmod\\] the file has ${fs.statSync(file).size}`));
  });
}

test('insmod of a directory and of /dev/zero: kmod\'s own errors, at once', () => {
  fs.mkdirSync(path.join(TMP, 'dir.ko'), { recursive: true });
  for (const f of ['dir.ko', '/dev/zero', '/dev/null', 'missing.ko']) {
    const real = realInsmod(f);
    assert.equal(real.called, undefined, f);
    const r = kmodsim('insmod', f, '--json');
    assert.equal(r.code, 1, f);
    const j = JSON.parse(r.out);
    assert.equal(`insmod: ERROR: could not ${/missing/.test(f) ? 'load' : 'insert'} module ` +
      `${f}: ${j.insmod}`, real.error, f);
    assert.equal(j.stage, 'user space');
    assert.equal(j.call, '');
  }
});

test('insmod and check of a named pipe: refused at once, nothing waits for a writer', () => {
  const fifo = path.join(TMP, 'fifo.ko');
  if (!fs.existsSync(fifo)) spawnSync('mkfifo', [fifo]);
  const r = kmodsim('insmod', fifo);
  assert.equal(r.code, 2);
  assert.match(r.err, /fifo\.ko: a named pipe, not a regular file/);
  const c = kmodsim('check', fifo, HELLO);
  assert.equal(c.code, 2);
  assert.match(c.out, /fifo\.ko: EINVAL: cannot read the file: .*a named pipe/);
  assert.match(c.out, /hello\.ko: loads/);
});

test('insmod of a .ko.gz: Debian\'s kmod (-ZLIB) hands the gzip bytes to finit_module', () => {
  write('hello.ko.gz', gzipSync(fs.readFileSync(HELLO)));
  assert.equal(realInsmod('hello.ko.gz').called, 'finit_module');
  const r = kmodsim('insmod', 'hello.ko.gz', '--json');
  const j = JSON.parse(r.out);
  assert.equal(j.call, 'finit_module');
  assert.equal(j.errno_name, 'ENOEXEC');
  assert.deepEqual(j.lines.map((l: { text: string }) => l.text),
    ['Invalid ELF header magic: != \x7fELF']);
});

test('insmod of a truncated .ko.xz: EINVAL in user space, as the real insmod', () => {
  const xz = spawnSync('xz', ['-c', HELLO]).stdout;
  write('cut.ko.xz', xz.subarray(0, 1000));
  const real = realInsmod('cut.ko.xz');
  assert.equal(real.called, undefined);
  const r = kmodsim('insmod', 'cut.ko.xz');
  assert.equal(r.code, 1);
  assert.equal(r.out.split('\n')[0], real.error);
});

test('an ELF file cut short: the kernel line, then where the section table runs out', () => {
  write('cut.ko', fs.readFileSync(HELLO).subarray(0, 1000));
  const r = kmodsim('insmod', 'cut.ko');
  assert.equal(r.code, 1);
  assert.match(r.out, /kern {2}:err {3}: Invalid ELF section header overflow/);
  const shoff = fs.readFileSync(HELLO).readUInt32LE(40);
  assert.match(r.out, new RegExp(`error: \\[elf_validity_check\\] .*section headers at ` +
    `0x${shoff.toString(16)} run past the end of the file \\(1000 bytes\\)`));
});

test('refusals the kernel prints nothing for still say why', () => {
  const nomodule = kmodsim('insmod', HELLO, '--boot-args', 'nomodule');
  assert.equal(nomodule.code, 1);
  assert.match(nomodule.out, /= -1 EPERM/);
  assert.match(nomodule.out, /error: \[finit_module\] module loading is disabled \(nomodule/);
  const twice = kmodsim('insmod', HELLO, '--loaded', HELLO);
  assert.match(twice.out, /EEXIST/);
  assert.match(twice.out, /error: \[add_unformed_module\] a module named hello is already/);
});

test('check: the reason is the refusing line; an explicit bad path does not stop the rest', () => {
  const bad = kmodsim('check', BADRELOC);
  assert.equal(bad.code, 1);
  assert.match(bad.out,
    /kmsim_badreloc\.ko: ENOEXEC: module: kmsim_badreloc: Unknown rela relocation: 9\n/);
  const lock = kmodsim('check', HELLO, '--boot-args', 'lockdown=integrity');
  assert.match(lock.out,
    /hello\.ko: EPERM: Lockdown: insmod: unsigned module loading is restricted/);
  const mixed = kmodsim('check', HELLO, path.join(TMP, 'nonexistent.ko'), '/dev/zero');
  assert.equal(mixed.code, 2);
  assert.match(mixed.out, /hello\.ko: loads/);
  assert.match(mixed.out,
    /nonexistent\.ko: ENOENT: cannot read the file: .*nonexistent\.ko: No such file or dir/);
  assert.match(mixed.out, /\/dev\/zero: EINVAL: cannot read the file: .*a device/);
  assert.match(mixed.out, /1\/3 modules load/);
  assert.doesNotMatch(mixed.out, /relocations applied/);
});

test('check: an empty directory and a bad -j are usage errors (exit 2)', () => {
  fs.mkdirSync(path.join(TMP, 'emptydir'), { recursive: true });
  const empty = kmodsim('check', path.join(TMP, 'emptydir'));
  assert.equal(empty.code, 2);
  assert.match(empty.err, /no module .* in .*emptydir/);
  for (const j of ['abc', '0']) {
    const r = kmodsim('check', '-j', j, HELLO);
    assert.equal(r.code, 2);
    assert.match(r.err, /argument '.*' is invalid\. expected a number of threads/);
  }
});

test('a closed pipe ends the output quietly', () => {
  for (const cmd of [`check ${HELLO} ${HELLO} ${HELLO} --json | head -c 10`,
    `insmod ${HELLO} times=abc --json | head -1`, `modinfo ${HELLO} ${HELLO} | head -1`]) {
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" --import tsx ` +
      `${CLI} ${cmd} >/dev/null`], { cwd: REPO, encoding: 'utf8' });
    assert.doesNotMatch(r.stderr, /EPIPE|at .*\.ts:\d+/, cmd);
  }
});

test('modinfo goes on past a bad file and says what kmod\'s modinfo says', () => {
  fs.copyFileSync(HELLO, path.join(TMP, 'hello.ko'));
  fs.copyFileSync('/bin/ls', path.join(TMP, 'ls.ko'));
  write('text.ko', 'not an ELF file, only text long enough to be more than an ELF header ...\n');
  const args = ['nonexist.ko', 'hello.ko', 'text.ko', 'dir.ko', 'ls.ko', 'three.ko'];
  fs.mkdirSync(path.join(TMP, 'dir.ko'), { recursive: true });
  write('three.ko', 'abc');
  const real = spawnSync('/usr/sbin/modinfo', args, { cwd: TMP, encoding: 'utf8' });
  const r = kmodsim('modinfo', ...args);
  assert.equal(r.code, real.status);
  assert.equal(r.err, real.stderr);
  assert.equal(r.out.replace(/^kmodsim:\n(?: .*\n)*/m, ''), real.stdout);
});

test('usage errors exit 2, refusals 1; --version is the package\'s', () => {
  assert.equal(kmodsim('insmod', HELLO, '--bogus').code, 2);
  assert.equal(kmodsim('insmod').code, 2);
  assert.equal(kmodsim('insmod', HELLO, 'delays=1,2,3,4').code, 1);
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
  assert.equal(kmodsim('--version').out.trim(), pkg.version);
  assert.match(kmodsim('insmod', '--help').out, /Exit status: 0 the module loads/);
});

test('--loaded takes one file; what follows is the module\'s parameters', () => {
  const r = kmodsim('insmod', HELLO, '--loaded', BADRELOC, 'times=2');
  assert.equal(r.code, 1);
  assert.match(r.out, /--loaded .*kmsim_badreloc\.ko does not load/);
  const ok = kmodsim('insmod', HELLO, 'times=2', '--json');
  assert.deepEqual(JSON.parse(ok.out).loaded[0].parameters.times, '2');
});

test('a parameter given without = is quoted as given', () => {
  const r = kmodsim('insmod', HELLO, 'times');
  assert.equal(r.code, 1);
  assert.match(r.out, /error: \[parse_args\] times refused \(errno 22\)/);
});

test('--config overrides a y/n option of the target and refuses unknown ones', () => {
  const r = kmodsim('insmod', HELLO, '--config', 'CONFIG_MODULE_SIG_FORCE=y', '--json');
  assert.equal(r.code, 1);
  const j = JSON.parse(r.out);
  assert.equal(j.errno_name, 'EKEYREJECTED');
  assert.deepEqual(j.lines, [{ level: 5, text: 'Loading of unsigned module is rejected' }]);
  const bad = kmodsim('insmod', HELLO, '--config', 'CONFIG_NOT_A_THING=y');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /CONFIG_NOT_A_THING is not an option kmodsim models; known: /);
  assert.equal(kmodsim('insmod', HELLO, '--config', 'CONFIG_MODVERSIONS=m').code, 2);
});

test('-k running is /lib/modules/$(uname -r), as in the language server', () => {
  const r = kmodsim('insmod', HELLO, '-k', 'running');
  const tree = path.join('/lib/modules', os.release());
  if (fs.existsSync(tree)) assert.notEqual(r.code, 2, r.err);
  else assert.match(r.err, new RegExp(`-k running: ${tree.replace(/[.+]/g, '\\$&')} `));
});

test('boot arguments kmodsim does not act on are said, not dropped', () => {
  const r = kmodsim('insmod', HELLO, '--boot-args', 'lockdown=bogus hello.times=abc totally=x');
  assert.equal(r.code, 0);
  assert.match(r.err, /lockdown=bogus: .*Malformed early option 'lockdown'/);
  assert.match(r.err, /hello\.times=abc: a parameter for module hello: modprobe adds it/);
  assert.match(r.err, /totally=x: not a boot argument kmodsim models/);
});

test('a hand-edited profile is refused naming the file and the field', () => {
  const bare = write('bare.json', '{"format":"kmodsim-profile/1"}');
  const r = kmodsim('insmod', HELLO, '-k', bare);
  assert.equal(r.code, 2);
  assert.match(r.err, /bare\.json: field "release": expected a string/);
  const bundled = JSON.parse(fs.readFileSync(path.join(REPO, 'profiles',
    'debian-6.1.0-57-amd64.json'), 'utf8'));
  const wrong = write('series.json', JSON.stringify({ ...bundled, series: '7.2' }));
  assert.match(kmodsim('insmod', HELLO, '-k', wrong).err,
    /series\.json: field "series": "7\.2" is not a series kmodsim models/);
});

test('run exits 1 when a line does not parse or a case cannot open its file', () => {
  const cases = write('cases.tsv', `ok\t${HELLO}\t0\t\nbad\t${HELLO}\tNOT_A_FLAG\t\n` +
    'gone\tmissing.ko\t0\t\n');
  const r = kmodsim('run', cases);
  assert.equal(r.code, 1);
  assert.match(r.err, /cases\.tsv:2: case bad: does not parse: unknown flag: NOT_A_FLAG/);
  assert.match(r.err, /cases\.tsv:3: case gone: cannot open its module/);
  assert.equal(JSON.parse(r.out).cases[0].rc, 0);
});

test('a file over INT_MAX bytes: finit_module() is made, and the kernel says EFBIG', () => {
  // Sparse: no disk is used, and neither tool reads it.
  const big = path.join(TMP, 'big.ko');
  fs.writeFileSync(big, fs.readFileSync(HELLO));
  fs.truncateSync(big, 3 * 1024 ** 3);
  assert.equal(realInsmod('big.ko').called, 'finit_module');
  const r = kmodsim('insmod', 'big.ko', '--json');
  assert.equal(r.code, 1);
  const j = JSON.parse(r.out);
  assert.equal(j.call, 'finit_module');
  assert.equal(j.errno_name, 'EFBIG');
  assert.deepEqual(j.lines, []);
  assert.equal(j.insmod, 'File too large');
  fs.rmSync(big);
});

test('the language server started without a transport says how, with no stack trace', () => {
  const r = spawnSync(process.execPath, ['--import', TSX,
    path.join(REPO, 'server', 'src', 'lsp', 'server.ts')], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /start it with --stdio, --node-ipc, --socket=PORT or --pipe=NAME/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('-k and a cases file that are not regular files are refused at once', () => {
  const r = kmodsim('insmod', HELLO, '-k', '/dev/zero');
  assert.equal(r.code, 2);
  assert.match(r.err, /\/dev\/zero: not a regular file or a directory/);
  const cases = write('dev.tsv', 'z\t/dev/zero\t0\t\n');
  const c = kmodsim('run', cases);
  assert.equal(c.code, 1);
  assert.match(c.err, /dev\.tsv:1: case z: cannot open its module: \/dev\/zero: not a regular/);
});

test('an int parameter of 120,000 digits is ERANGE (kstrtoint overflows), as in the kernel', () => {
  const r = kmodsim('insmod', HELLO, `times=${'1'.repeat(120_000)}`, '--json');
  assert.equal(r.code, 1);
  const j = JSON.parse(r.out);
  assert.equal(j.errno_name, 'ERANGE');
  assert.equal(j.insmod, 'Numerical result out of range');
  assert.match(j.lines[j.lines.length - 1].text, /^hello: `1111/);
});

test('sig_enforce and lockdown refusals carry an error: line of their own', () => {
  const sig = kmodsim('insmod', HELLO, '--boot-args', 'module.sig_enforce=1');
  assert.match(sig.out, /error: \[module_sig_check\] unsigned module, and signatures are/);
  const lock = kmodsim('insmod', HELLO, '--boot-args', 'lockdown=integrity');
  assert.match(lock.out, /error: \[module_sig_check\] unsigned module, and the kernel is locked/);
});

test('a zstd frame asking for 4 GiB is undecidable (exit 2), no EINVAL without a call', () => {
  // Magic, a single-segment frame header with an 8-byte content size of 2^32, one empty
  // last raw block.
  const frame = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xe0]),
    Buffer.from([0, 0, 0, 0, 1, 0, 0, 0]), Buffer.from([1, 0, 0])]);
  write('bomb.ko.zst', frame);
  const r = kmodsim('insmod', 'bomb.ko.zst', '--json');
  assert.equal(r.code, 2);
  const j = JSON.parse(r.out);
  assert.equal(j.stage, 'undecidable');
  assert.equal(j.call, '');
  assert.match(j.undecidable, /asks for a 4294967296-byte buffer/);
  const c = kmodsim('check', 'bomb.ko.zst');
  assert.equal(c.code, 2);
  assert.match(c.out, /bomb\.ko\.zst: undecidable: /);
});

test('a .ko.zst of 1.2 GB of zeros is refused from its block headers, before decoding', () => {
  const zero = spawnSync('bash', ['-c', 'head -c 1200000000 /dev/zero | zstd -1 -q -c'],
    { maxBuffer: 1 << 24 }).stdout;
  write('zeros.ko.zst', zero);
  const r = kmodsim('insmod', 'zeros.ko.zst');
  assert.equal(r.code, 2);
  // The bound is what the block headers allow at most: 1.2 GB, give or take a block.
  assert.match(r.out, /undecidable: .*zstd blocks decompress to up to 12\d{8} bytes, beyond /);
});

test('which system call insmod makes: finit_module for a plain file, init_module for .ko.xz',
  () => {
  const xz = spawnSync('xz', ['-c', HELLO]).stdout;
  write('h.ko.xz', xz);
  fs.copyFileSync(HELLO, path.join(TMP, 'h.ko'));
  for (const [file, force] of [['h.ko', '-f'], ['h.ko.xz', '-f'], ['h.ko.xz', '']]) {
    const r = spawnSync('strace', ['-e', 'trace=finit_module,init_module', '-e',
      'inject=finit_module,init_module:error=EBADMSG', '/usr/sbin/insmod',
      ...(force ? [force] : []), file], { cwd: TMP, encoding: 'utf8' });
    const real = /^(finit_module|init_module)\(/m.exec(r.stderr)?.[1];
    const j = JSON.parse(kmodsim('insmod', file, ...(force ? [force] : []), '--json').out);
    assert.equal(j.call, real, `${force} ${file}`);
  }
});

// dist/cli.js copied alone, with no node_modules beside it (its native decoders are outside the
// bundle): a .ko.xz cannot be decided and says why, exit 2, and a plain module is still checked.
test('a bundle without its liblzma binding says so for a .ko.xz and checks plain modules', {
  skip: !fs.existsSync(path.join(REPO, 'dist', 'cli.js')) && 'dist/ is not built',
}, () => {
  const alone = fs.mkdtempSync(path.join(os.tmpdir(), 'kmodsim-alone-'));
  fs.mkdirSync(path.join(alone, 'dist'));
  fs.mkdirSync(path.join(alone, 'profiles'));
  fs.copyFileSync(path.join(REPO, 'dist', 'cli.js'), path.join(alone, 'dist', 'cli.js'));
  fs.copyFileSync(path.join(REPO, 'profiles', 'debian-6.1.0-57-amd64.json'),
    path.join(alone, 'profiles', 'debian-6.1.0-57-amd64.json'));
  const xz = path.join(REPO, 'test', 'fixtures', 'tiny-rsa.ko.xz');
  const r = spawnSync(process.execPath, [path.join(alone, 'dist', 'cli.js'), 'check', xz, HELLO],
    { cwd: alone, encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stdout, new RegExp(`^${xz}: undecidable: xz: liblzma's binding ` +
    `\\(node-liblzma\\) cannot be loaded by node ${process.version}: Cannot find module ` +
    `'node-liblzma'$`, 'm'));
  assert.match(r.stdout, new RegExp(`^${HELLO}: loads$`, 'm'));
  assert.match(r.stdout, /^1\/2 modules load on 6\.1\.0-57-amd64; 0 refused; 1 undecidable$/m);
  const info = spawnSync(process.execPath, [path.join(alone, 'dist', 'cli.js'), 'modinfo', xz],
    { cwd: alone, encoding: 'utf8' });
  assert.equal(info.status, 1);
  assert.match(info.stderr, /could not get modinfo from 'tiny_rsa': xz: liblzma's binding /);
});

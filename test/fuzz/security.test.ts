// The security model (README "Security"): kmodsim only reads. It never runs anything from a
// workspace and never starts a shell or another program with a string a workspace controls.
// Checked two ways:
// - statically: no source file of the server, the CLI or the client imports child_process or
//   vm, or evaluates strings; worker threads only run the project's own scripts (check-worker,
//   simulate-worker);
// - dynamically: the CLI is run over a hostile workspace (file names made of shell commands, a
//   modprobe.d `install` line that would run a shell, a symlink loop) with every function of
//   child_process replaced by one that records the call; none may be called, and none of the
//   commands may have left its marker file.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { effectiveSettings } from '../../server/src/lsp/settings.js';

const REPO = path.resolve(__dirname, '..', '..');
const CLI = path.join(REPO, 'server', 'src', 'cli', 'main.ts');
// By URL: the CLI runs with the hostile workspace as its working directory.
const TSX = pathToFileURL(require.resolve('tsx')).href;

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

// Where a worker thread may be started, and from which script.
const WORKER_USERS = new Set(['server/src/cli/pool.ts',
  'server/src/lsp/simulation-thread.ts']);

test('no source of the server, CLI or client can run a program or evaluate a string', () => {
  const files = [...sources(path.join(REPO, 'server/src')), ...sources(path.join(REPO,
    'client/src'))];
  assert.ok(files.length > 50, `only ${files.length} source files found`);
  for (const f of files) {
    const rel = path.relative(REPO, f);
    const text = fs.readFileSync(f, 'utf8');
    assert.doesNotMatch(text, /['"](node:)?child_process['"]/, `${rel} imports child_process`);
    assert.doesNotMatch(text, /['"](node:)?vm['"]/, `${rel} imports vm`);
    assert.doesNotMatch(text, /\beval\s*\(|new\s+Function\s*\(/, `${rel} evaluates a string`);
    assert.doesNotMatch(text, /process\.dlopen|process\.binding/, `${rel} loads native code`);
    if (/['"](node:)?worker_threads['"]/.test(text) && /new Worker\(/.test(text)) {
      assert.ok(WORKER_USERS.has(rel), `${rel} starts a worker thread`);
      assert.doesNotMatch(text, /eval:\s*true/, `${rel} starts a worker from a string`);
    }
  }
});

// Loaded with --require before the CLI: every child_process function records and refuses.
const TRAP = `
const cp = require('node:child_process');
const fs = require('node:fs');
for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync',
  'fork']) {
  cp[name] = (...args) => {
    fs.appendFileSync(process.env.KMODSIM_TRAP_LOG, name + ' ' + JSON.stringify(args) + '\\n');
    throw new Error('child_process.' + name + ' called');
  };
}
`;

function hostileWorkspace(): { dir: string; files: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kmodsim-hostile-'));
  const hello = fs.readFileSync(path.join(REPO, 'examples/hello/hello.ko'));
  const xz = fs.readFileSync(path.join(REPO, 'test/fixtures/tiny-rsa.ko.xz'));
  const files = [
    ['$(touch PWNED1).ko', hello],
    ['`touch PWNED2`.ko', hello.subarray(0, 3000)],
    ['a;touch PWNED3;b.ko.xz', xz],
    ["x' || touch PWNED4 || '.ko", hello],
  ] as const;
  for (const [name, bytes] of files) fs.writeFileSync(path.join(dir, name), bytes);
  fs.mkdirSync(path.join(dir, 'modprobe.d'));
  fs.writeFileSync(path.join(dir, 'modprobe.d', 'evil.conf'),
    'install hello /bin/sh -c "touch PWNED5"\nremove hello touch PWNED6\n' +
    'options hello times=$(touch PWNED7)\n');
  fs.symlinkSync('.', path.join(dir, 'loop'));
  return { dir, files: files.map(([n]) => path.join(dir, n)) };
}

test('the CLI reads a hostile workspace without running anything', () => {
  const { dir, files } = hostileWorkspace();
  const trap = path.join(dir, '..', `${path.basename(dir)}-trap.cjs`);
  const log = path.join(dir, '..', `${path.basename(dir)}-trap.log`);
  fs.writeFileSync(trap, TRAP);
  const run = (...args: string[]) => spawnSync(process.execPath,
    ['--require', trap, '--import', TSX, CLI, ...args],
    { cwd: dir, encoding: 'utf8', env: { ...process.env, KMODSIM_TRAP_LOG: log } });
  try {
    const check = run('check', dir, '--json');
    // Refusals are expected (one file is cut short); a crash or a trap is not.
    assert.ok(check.status === 0 || check.status === 1, check.stderr);
    for (const f of files) assert.ok(check.stdout.includes(`{"file":${JSON.stringify(f)}`), f);
    // The two whole copies of hello.ko load; the cut one and tiny.ko (no struct module) do not.
    assert.match(check.stderr, /^2\/4 modules load on 6\.1\.0-57-amd64; 2 refused/m);
    for (const f of files) {
      const whole = !f.includes('PWNED2');
      // Refused either way: `$(touch' is no int, and the cut file is no module.
      const r = run('insmod', f, 'times=$(touch PWNED8)', '--steps');
      assert.equal(r.status, 1, `${f}: ${r.stderr}`);
      const m = run('modinfo', f);
      assert.equal(m.status, whole ? 0 : 2, `${f}: ${m.stderr}`);
      if (!whole) assert.match(m.stderr, /37 section headers at 0x1740 run past the end of the/);
    }
    assert.equal(fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '', '');
    const pwned = fs.readdirSync(dir).filter((n) => n.startsWith('PWNED'));
    assert.deepEqual(pwned, []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(trap, { force: true });
    fs.rmSync(log, { force: true });
  }
});

test('the trap itself works: a child_process call is recorded and refused', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kmodsim-trap-'));
  try {
    const trap = path.join(dir, 'trap.cjs');
    const log = path.join(dir, 'trap.log');
    fs.writeFileSync(trap, TRAP);
    const r = spawnSync(process.execPath, ['--require', trap, '-e',
      "require('node:child_process').execSync('touch PWNED')"],
    { cwd: dir, encoding: 'utf8', env: { ...process.env, KMODSIM_TRAP_LOG: log } });
    assert.notEqual(r.status, 0);
    assert.match(fs.readFileSync(log, 'utf8'), /^execSync \["touch PWNED"\]/);
    assert.equal(fs.existsSync(path.join(dir, 'PWNED')), false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// The editor's setting rule (server/src/lsp/settings.ts): in an untrusted workspace a path
// setting counts only when it really leads inside the workspace, through symlinks too.
test('untrusted workspace: settings that lead outside it are ignored, symlinks followed', () => {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'kmodsim-trust-'));
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'kmodsim-outside-'));
  try {
    fs.mkdirSync(path.join(ws, 'headers'));
    fs.symlinkSync(outside, path.join(ws, 'innocent'));
    const check = (kernel: string, buildDirs: string[], trusted: boolean) =>
      effectiveSettings({ kernel, buildDirs }, [ws], trusted);

    const inside = check('headers', ['headers/build', 'new/dir'], false);
    assert.equal(inside.kernelPath, path.join(ws, 'headers'));
    assert.deepEqual(inside.buildDirs, [path.join(ws, 'headers/build'), path.join(ws, 'new/dir')]);
    assert.deepEqual(inside.ignored, []);

    const out = check('innocent', [outside, '../elsewhere', 'innocent/sub'], false);
    assert.equal(out.kernelPath, '');
    assert.equal(out.kernel, '');
    assert.deepEqual(out.buildDirs, []);
    const real = fs.realpathSync(outside);
    assert.deepEqual(out.ignored, [
      `kmodsim.kernel '${path.join(ws, 'innocent')}' (it leads to ${real}) is outside the ` +
        'workspace and the workspace is not trusted',
      `kmodsim.buildDirs entry '${outside}' is outside the workspace and the workspace is not ` +
        'trusted',
      `kmodsim.buildDirs entry '${path.resolve(ws, '../elsewhere')}' is outside the workspace ` +
        'and the workspace is not trusted',
      `kmodsim.buildDirs entry '${path.join(ws, 'innocent/sub')}' (it leads to ` +
        `${path.join(real, 'sub')}) is outside the workspace and the workspace is not trusted`,
    ]);
    assert.equal(check('running', [], false).kernelPath, '');

    // Trusted, the same settings count as written.
    const trusted = check('innocent', [outside], true);
    assert.equal(trusted.kernelPath, path.join(ws, 'innocent'));
    assert.deepEqual(trusted.buildDirs, [outside]);
  } finally {
    fs.rmSync(ws, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  }
});

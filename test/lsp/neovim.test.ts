// The server in another LSP client: a headless Neovim with its built-in client only
// (test/lsp/neovim.lua). Neovim is installed by scripts/setup.sh.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { REPO, SERVER } from './client.js';
import { HELLO_DIR, makeWorkspace, removeWorkspace } from './fixtures.js';

test('headless Neovim gets the diagnostics, completions and hover of a modprobe.d file', () => {
  const ws = makeWorkspace({
    'hello.ko': { copy: path.join(HELLO_DIR, 'hello.ko') },
    'modprobe.d/hello.conf': 'options hello delays=1,2,3,4\noptions hello \n',
  });
  const out = path.join(ws, 'result.json');
  try {
    const r = spawnSync('nvim', ['--headless', '-u', 'NONE', '-i', 'NONE', '-n',
      '-c', `luafile ${path.join(REPO, 'test', 'lsp', 'neovim.lua')}`], {
      encoding: 'utf8', timeout: 120_000, cwd: ws,
      env: { ...process.env, KMODSIM_SERVER: SERVER, KMODSIM_ROOT: ws,
        KMODSIM_FILE: path.join(ws, 'modprobe.d', 'hello.conf'), KMODSIM_OUT: out },
    });
    assert.ok(fs.existsSync(out), `nvim wrote nothing: ${r.error ?? ''} ${r.stderr}`);
    const got = JSON.parse(fs.readFileSync(out, 'utf8'));
    assert.equal(got.diagnostics_arrived, true);
    const conf = Object.entries(got.published as Record<string, { line: number;
      message: string; severity: number }[]>).find(([u]) => u.endsWith('/hello.conf'))![1];
    assert.deepEqual(conf.map((d) => [d.line, d.severity, d.message]), [
      [0, 1, 'delays: can only take 3 arguments\n' +
        "hello: `1' invalid for parameter `delays'\nthe load fails: EINVAL (Invalid argument)"],
      [1, 1, `${path.join(ws, 'modprobe.d', 'hello.conf')} line 2: ignoring bad line ` +
        "starting with 'options'"],
    ]);
    const report = Object.entries(got.published as Record<string, unknown[]>)
      .find(([u]) => u.startsWith('kmodsim-report:'));
    assert.ok(report, 'no report document diagnostics');
    assert.deepEqual(got.completion, ['times=|int, default 1', 'greeting=|charp, default hello',
      'delays=|array of int, default 5,10,15']);
    assert.match(got.hover, /^\*\*delays\*\* \(array of int\) of module `hello`$/m);
  } finally {
    removeWorkspace(ws);
  }
});

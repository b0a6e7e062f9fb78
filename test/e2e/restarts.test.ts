// The client's answer to a server process that dies (client/src/restarts.ts): restarted, and
// the user told how many times it happened; left stopped once it dies more often than
// vscode-languageclient's default allows (4 restarts in 3 minutes). The same in the editor:
// suite/editor.test.ts kills the real server and waits for it to come back.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_RESTARTS, RESTART_WINDOW_MS, ServerRestarts } from '../../client/src/restarts.js';

test('each death is restarted and counted in the message', () => {
  const r = new ServerRestarts();
  const first = r.closed(1000);
  assert.deepEqual(first, { restart: true, message: 'kmodsim: the language server stopped ' +
    'unexpectedly (once in this session) and has been restarted; see the kmodsim output for why' });
  assert.equal(r.closed(2000).message, 'kmodsim: the language server stopped unexpectedly ' +
    '(2 times in this session) and has been restarted; see the kmodsim output for why');
  assert.equal(r.total, 2);
});

test('a server that keeps dying is left stopped, and the user is told so', () => {
  const r = new ServerRestarts();
  for (let i = 0; i < MAX_RESTARTS; i++) assert.equal(r.closed(i * 1000).restart, true);
  const last = r.closed(MAX_RESTARTS * 1000);
  assert.equal(last.restart, false);
  assert.equal(last.message, 'kmodsim: the language server stopped unexpectedly 5 times in 3 ' +
    'minutes and is not restarted again; see the kmodsim output for why, and run "Developer: ' +
    'Reload Window" to start it');
});

test('deaths further apart than the window are all restarted', () => {
  const r = new ServerRestarts();
  for (let i = 0; i < 10; i++) assert.equal(r.closed(i * RESTART_WINDOW_MS).restart, true);
  assert.match(r.closed(10 * RESTART_WINDOW_MS).message, /\(11 times in this session\)/);
});

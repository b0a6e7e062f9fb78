// The server's simulation thread (server/src/lsp/simulation-thread.ts with the bundled
// dist/simulate-worker.js): a load run there gives what the same load gives on the main
// thread, and while it runs (Debian's amdgpu.ko, 19 MB) the main thread's event loop goes on,
// which is what lets the server answer requests meanwhile.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import type { Connection } from 'vscode-languageserver/node';
import { targetOf } from '../../server/src/lsp/kernels.js';
import { Log } from '../../server/src/lsp/log.js';
import { effectiveSettings } from '../../server/src/lsp/settings.js';
import { readFacts, simulateLoad, type LoadRequest } from '../../server/src/lsp/simulate.js';
import { SimulationThread } from '../../server/src/lsp/simulation-thread.js';
import { modulesDir, REL_61, REPO } from '../support/corpus.js';
import { HELLO_DIR, turnsDuring } from './fixtures.js';

const SCRIPT = path.join(REPO, 'dist', 'simulate-worker.js');
const errors: string[] = [];
// The log's sink: what the thread reports as errors is kept, to be checked.
const log = new Log({ console: { error: (t: string) => errors.push(t), warn: () => undefined,
  info: () => undefined, log: () => undefined } } as unknown as Connection);
// Every load in the thread, however small (the server keeps small ones on its main thread).
const thread = new SimulationThread(log, SCRIPT, 0);
const profile = targetOf(effectiveSettings({}, [], true)).profile;

after(() => thread.close());

function request(params: string): LoadRequest {
  return { profile, bootArgs: '', params, forceVermagic: false, forceModversion: false,
    workspace: [] };
}

// The main thread's result without what stays in the worker (the relocated images).
function here(file: string, params: string) {
  const raw = new Uint8Array(fs.readFileSync(file));
  const { outcome: _images, ...result } = simulateLoad(readFacts(file, raw), raw,
    request(params)).result;
  return result;
}

async function inThread(file: string, params: string) {
  assert.ok(fs.existsSync(SCRIPT), `${SCRIPT} is missing: run \`node esbuild.mjs\``);
  const raw = new Uint8Array(fs.readFileSync(file));
  const { value: run, turns } = await turnsDuring(thread.run(readFacts(file, raw), raw,
    request(params)));
  return { result: run.result, turns };
}

test('a load in the thread gives the kernel\'s answer, as on the main thread', async () => {
  const hello = path.join(HELLO_DIR, 'hello.ko');
  const { result } = await inThread(hello, 'times=2 delays=1,2,3,4');
  assert.equal(result.errnoName, 'EINVAL');
  assert.ok(result.lines.some((l) => l.text === 'delays: can only take 3 arguments'),
    JSON.stringify(result.lines));
  assert.deepEqual(result, here(hello, 'times=2 delays=1,2,3,4'));
});

test('while amdgpu.ko is simulated in the thread, the main thread runs', async () => {
  const amdgpu = path.join(modulesDir(REL_61), 'kernel/drivers/gpu/drm/amd/amdgpu/amdgpu.ko');
  const { result, turns } = await inThread(amdgpu, '');
  assert.ok(turns > 0, 'the main thread\'s event loop did not run during the simulation');
  assert.equal(result.ret, 0, JSON.stringify(result.lines));
  assert.deepEqual(result, here(amdgpu, ''));
  assert.deepEqual(errors, []);
});

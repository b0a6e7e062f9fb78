// The language server's simulation thread (started by simulation-thread.ts): it keeps each
// target's profile it is sent, then runs one load per message and answers with its result,
// so that a module that takes long to simulate (amdgpu, 19 MB) does not hold up the server's
// answers to requests.

import { parentPort } from 'node:worker_threads';
import type { KernelProfile } from '../kernel/profile.js';
import { profileFromJson } from '../kernel/profile-json.js';
import { simulateLoad } from './simulate.js';
import type { FromThread, ToThread } from './simulation-thread.js';

const profiles = new Map<number, KernelProfile>();

parentPort!.on('message', (m: ToThread) => {
  if (m.kind === 'profile') {
    profiles.set(m.id, { ...profileFromJson(m.json, m.source), modulesDir: m.modulesDir });
    return;
  }
  let reply: FromThread;
  try {
    const profile = profiles.get(m.profile);
    if (!profile) throw new Error(`profile ${m.profile} was never sent`);
    const run = simulateLoad(m.facts, m.raw, { profile, bootArgs: m.bootArgs,
      params: m.params, forceVermagic: m.forceVermagic, forceModversion: m.forceModversion,
      workspace: m.providers });
    // The relocated images stay here: the report does not show them.
    const { outcome: _images, ...result } = run.result;
    reply = { id: m.id, run: { result, providers: run.providers } };
  } catch (e) {
    reply = { id: m.id, error: (e as Error).stack ?? String(e) };
  }
  parentPort!.postMessage(reply);
});

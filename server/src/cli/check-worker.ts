// A `kmodsim check` worker thread: reads the profile once, is sent the file names, then checks
// batches of them, taking each from the counter it shares with the other threads
// (cli/pool.ts), and answers with their summaries until no batch is left.

import { parentPort, workerData } from 'node:worker_threads';
import { profileFromJson } from '../kernel/profile-json.js';
import { FileReader } from './check.js';
import { BATCH, checkFile, type WorkerReply, type WorkerSetup } from './pool.js';

const setup = workerData as WorkerSetup;
const profile = { ...profileFromJson(setup.profileJson, setup.source),
  modulesDir: setup.modulesDir };
const opts = setup.opts;
const counter = new Int32Array(setup.next);
const reader = new FileReader();

parentPort!.once('message', (files: string[]) => {
  for (;;) {
    const first = Atomics.add(counter, 0, BATCH);
    if (first >= files.length) break;
    const batch = files.slice(first, first + BATCH);
    let reply: WorkerReply;
    try {
      reply = { first, summaries: batch.map((f) => checkFile(profile, reader, f, opts)) };
    } catch (e) {
      reply = { first, summaries: [], error: `${batch.join(', ')}: ${(e as Error).stack ?? e}` };
    }
    parentPort!.postMessage(reply);
    if (reply.error) return;
  }
  parentPort!.postMessage({ first: 0, summaries: [], done: true } satisfies WorkerReply);
});

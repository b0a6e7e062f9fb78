// A `kmodsim check` worker thread: takes the profile once, then checks batches of files as
// cli/pool.ts sends them and answers with their summaries.

import { parentPort, workerData } from 'node:worker_threads';
import { profileFromJson } from '../kernel/profile-json.js';
import { FileReader } from './check.js';
import { checkFile, type WorkerJob, type WorkerReply, type WorkerSetup } from './pool.js';

const setup = workerData as WorkerSetup;
const profile = { ...profileFromJson(setup.profileJson, setup.source),
  modulesDir: setup.modulesDir };
const opts = setup.opts;
const reader = new FileReader();

parentPort!.on('message', (job: WorkerJob) => {
  let reply: WorkerReply;
  try {
    reply = { first: job.first, summaries: job.files.map((f) => checkFile(profile, reader, f,
      opts)) };
  } catch (e) {
    reply = { first: job.first, summaries: [], error: `${job.files.join(', ')}: ` +
      `${(e as Error).stack ?? e}` };
  }
  parentPort!.postMessage(reply);
});

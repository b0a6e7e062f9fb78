// `kmodsim check` over many files: this thread and worker threads, one thread per core in all.
// Each worker gets the profile once, then batches of file names; results come back as small
// summaries and are handed out in file order. Few files, or one core, run in this thread alone.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { KernelProfile } from '../kernel/profile.js';
import { profileToJson } from '../kernel/profile-json.js';
import type { SyscallResult } from '../load/kernel.js';
import { refusalReason, resultJson } from '../report/text.js';
import { checkBytes, FileReader, type CheckOptions } from './check.js';

// What `kmodsim check` prints about one module.
export interface CheckSummary {
  file: string;
  ret: number;
  errnoName: string;
  relocationsApplied: number;
  // Why it is refused: the refusing step's kernel line, else kmodsim's explanation.
  firstLine?: string;
  // The file could not be read (kmodsim's error, not the kernel's verdict).
  unreadable?: boolean;
  // resultJson without the steps, for --json.
  json?: Record<string, unknown>;
}

export interface PoolOptions extends CheckOptions {
  json?: boolean;
  // Worker threads; default one per core. 1 runs everything in this thread.
  jobs?: number;
}

// The profile goes to each worker as its saved JSON: one string to copy, parsed by every
// worker at the same time, where a structured clone of its maps would be made one worker
// after the other on this thread.
export interface WorkerSetup {
  profileJson: string;
  source: string;
  modulesDir?: string;
  opts: PoolOptions;
}

// A batch of file names, and what came back for it.
export interface WorkerJob { first: number; files: string[] }
export interface WorkerReply { first: number; summaries: CheckSummary[]; error?: string }

const BATCH = 8;

export function summarize(file: string, r: SyscallResult, json: boolean): CheckSummary {
  // An undecidable result is neither a load nor the kernel's refusal: check says which.
  const s: CheckSummary = r.undecidable
    ? { file, ret: -1, errnoName: 'undecidable', relocationsApplied: r.relocationsApplied,
      firstLine: r.undecidable }
    : { file, ret: r.ret, errnoName: r.errnoName, relocationsApplied: r.relocationsApplied,
      firstLine: refusalReason(r) };
  if (json) {
    const { steps: _steps, ...rest } = resultJson(file, r);
    s.json = rest;
  }
  return s;
}

// Checks one file in this thread; a file that cannot be read is reported, not thrown.
export function checkFile(profile: KernelProfile, reader: FileReader, file: string,
  opts: PoolOptions): CheckSummary {
  let bytes: Uint8Array;
  try {
    bytes = reader.read(file);
  } catch (e) {
    const why = `cannot read the file: ${(e as Error).message}`;
    const code = (e as NodeJS.ErrnoException).code ?? 'EINVAL';
    return { file, ret: -1, errnoName: code, relocationsApplied: 0, firstLine: why,
      unreadable: true, json: opts.json ? { file, loads: false, error: why } : undefined };
  }
  return summarize(file, checkBytes(profile, bytes, opts), opts.json ?? false);
}

// The worker's script beside this one: the bundle's, or the source run through tsx. Without
// either (a bundle copied alone), everything runs in this thread.
function workerScript(): { file: string; execArgv?: string[] } | undefined {
  const bundled = path.join(__dirname, 'check-worker.js');
  if (fs.existsSync(bundled)) return { file: bundled };
  const source = path.join(__dirname, 'check-worker.ts');
  return fs.existsSync(source) ? { file: source, execArgv: ['--import', 'tsx'] } : undefined;
}

// Worker threads' young generation: the loads allocate little that lives, and the default
// (tens of MB per thread) is most of a worker's resident memory.
const WORKER_YOUNG_GENERATION_MB = 8;

// `jobs` threads in all: this one checks batches too, between handling the workers' replies,
// so two cores cost one worker (one copy of the profile, one heap) and not two.
export async function checkFiles(profile: KernelProfile, files: string[], opts: PoolOptions,
  each: (s: CheckSummary) => void): Promise<void> {
  const script = workerScript();
  const wanted = Number.isInteger(opts.jobs) && opts.jobs! > 0 ? opts.jobs!
    : os.availableParallelism();
  const jobs = !script ? 1 : Math.max(1, Math.min(wanted, Math.ceil(files.length / BATCH)));
  const reader = new FileReader();
  if (jobs === 1 || !script) {
    for (const f of files) each(checkFile(profile, reader, f, opts));
    return;
  }

  const done: (CheckSummary | undefined)[] = new Array(files.length);
  let emitted = 0;
  let next = 0;
  const setup: WorkerSetup = { profileJson: profileToJson(profile), source: profile.source,
    modulesDir: profile.modulesDir, opts };
  const workers = Array.from({ length: jobs - 1 }, () => new Worker(script.file, {
    workerData: setup, execArgv: script.execArgv,
    resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
  }));
  const take = (): WorkerJob | undefined => {
    if (next >= files.length) return undefined;
    const job = { first: next, files: files.slice(next, next + BATCH) };
    next += job.files.length;
    return job;
  };

  await new Promise<void>((resolve, reject) => {
    let failed = false;
    const fail = (e: Error) => {
      failed = true;
      reject(e);
    };
    const store = (first: number, summaries: CheckSummary[]) => {
      summaries.forEach((s, i) => { done[first + i] = s; });
      while (emitted < files.length && done[emitted]) {
        each(done[emitted]!);
        done[emitted++] = undefined;
      }
      if (emitted === files.length) resolve();
    };
    const inFlight = new Map<Worker, number>();
    const give = (w: Worker) => {
      const job = take();
      if (!job) {
        if (!inFlight.get(w)) void w.terminate();
        return;
      }
      inFlight.set(w, (inFlight.get(w) ?? 0) + 1);
      w.postMessage(job);
    };
    for (const w of workers) {
      w.on('message', (reply: WorkerReply) => {
        if (reply.error) return fail(new Error(reply.error));
        inFlight.set(w, inFlight.get(w)! - 1);
        store(reply.first, reply.summaries);
        give(w);
      });
      w.on('error', fail);
      w.on('exit', () => {
        if (inFlight.get(w) && !failed) fail(new Error(`a check worker stopped with files ` +
          'still to check'));
      });
      // Two batches in flight, so a worker never waits for the next one.
      give(w);
      give(w);
    }
    // This thread's share: one batch per turn of the event loop.
    const turn = () => {
      if (failed) return;
      const job = take();
      if (!job) return;
      store(job.first, job.files.map((f) => checkFile(profile, reader, f, opts)));
      setImmediate(turn);
    };
    setImmediate(turn);
  }).finally(() => {
    for (const w of workers) void w.terminate();
  });
}

// `kmodsim check` over many files: this thread and worker threads, one thread per core in all.
// Each worker gets the profile once, then batches of file names; results come back as small
// summaries and are handed out in file order. Few files, or one core, run in this thread alone.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { KernelProfile } from '../kernel/profile.js';
import { savedProfileText } from '../kernel/profile-json.js';
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
// after the other on this thread. The file names follow in one message; every thread takes
// its next batch of them from the shared counter `next`, so none waits for another to hand
// it work.
export interface WorkerSetup {
  profileJson: string;
  source: string;
  modulesDir?: string;
  opts: PoolOptions;
  next: SharedArrayBuffer;
}

// What a worker sends back: a batch's summaries, then `done` when no batch is left.
export interface WorkerReply { first: number; summaries: CheckSummary[]; error?: string;
  done?: boolean }

export const BATCH = 8;

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
  return summarize(file, checkBytes(profile, bytes, opts, reader.decoded), opts.json ?? false);
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
// so two cores cost one worker (one copy of the profile, one heap) and not two. The workers
// start when the pool is made, so they read their profile while this thread is still walking
// the directories; the files come with run().
export class CheckPool {
  private readonly next = new SharedArrayBuffer(4);
  private readonly workers: Worker[];

  constructor(private readonly profile: KernelProfile, private readonly opts: PoolOptions,
    expectedFiles = Infinity) {
    const script = workerScript();
    const wanted = Number.isInteger(opts.jobs) && opts.jobs! > 0 ? opts.jobs!
      : os.availableParallelism();
    const jobs = !script ? 1 : Math.max(1, Math.min(wanted, Math.ceil(expectedFiles / BATCH)));
    const setup: WorkerSetup = { profileJson: jobs > 1 ? savedProfileText(profile) : '',
      source: profile.source, modulesDir: profile.modulesDir, opts, next: this.next };
    this.workers = Array.from({ length: jobs - 1 }, () => new Worker(script!.file, {
      workerData: setup, execArgv: script!.execArgv,
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    }));
  }

  // Checks `files`, calling `each` in file order. Once per pool: the workers stop after it.
  async run(files: string[], each: (s: CheckSummary) => void): Promise<void> {
    const { profile, opts, workers } = this;
    const reader = new FileReader();
    // Workers started for a directory that held only a few modules are not worth their
    // replies.
    if (workers.length && files.length <= BATCH) {
      for (const w of workers.splice(0)) void w.terminate();
    }
    if (!workers.length) {
      for (const f of files) each(checkFile(profile, reader, f, opts));
      return;
    }

    const done: (CheckSummary | undefined)[] = new Array(files.length);
    let emitted = 0;
    const counter = new Int32Array(this.next);
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
      for (const w of workers) {
        let finished = false;
        w.on('message', (reply: WorkerReply) => {
          if (reply.error) return fail(new Error(reply.error));
          if (reply.done) finished = true;
          else store(reply.first, reply.summaries);
        });
        w.on('error', fail);
        w.on('exit', () => {
          if (!finished && !failed) fail(new Error('a check worker stopped with files still ' +
            'to check'));
        });
        w.postMessage(files);
      }
      // This thread's share: one batch per turn of the event loop, so the workers' replies
      // are taken in between.
      const turn = () => {
        if (failed) return;
        const first = Atomics.add(counter, 0, BATCH);
        if (first >= files.length) return;
        const batch = files.slice(first, first + BATCH);
        store(first, batch.map((f) => checkFile(profile, reader, f, opts)));
        setImmediate(turn);
      };
      setImmediate(turn);
    }).finally(() => {
      for (const w of workers) void w.terminate();
    });
  }
}

// The fuzz loop, run in a worker thread so that the runner (run.ts) can stop it when an input
// hangs. Coverage-guided: after each input it takes V8's precise block coverage of the
// engine's own files (node:inspector, the same data `node --experimental-test-coverage`
// uses) and keeps the input as a new seed when it reached a block, or a block count bucket,
// that no earlier input did. Before each input it copies the input into shared memory, so a
// hang or a dead worker still leaves the input behind.

import * as inspector from 'node:inspector';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { MAX_INPUT, Rng, mutate } from './mutate.js';
import { loadSeeds } from './seeds.js';
import { makeTargets, type Target } from './targets.js';

export interface WorkerInput {
  seconds: number;
  seed: number;
  only?: string;
  shared: SharedArrayBuffer;
}

// Layout of the shared buffer: Int32 [sequence, target index, input length, running], then
// the input bytes.
export const HEADER_BYTES = 16;

export interface Finding {
  target: string;
  kind: 'exception' | 'violation' | 'memory' | 'slow';
  signature: string;
  message: string;
  input: Uint8Array;
  ms: number;
}

export interface Stats {
  inputs: Record<string, number>;
  corpus: Record<string, number>;
  slowest: { ms: number; target: string; size: number };
}

// Bytes of peak-RSS growth one input may cause before it counts as an allocation sized by an
// untrusted field: far above what a load of a 1 MiB input needs (a few MB).
const MEMORY_JUMP = 256 << 20;
const SLOW_MS = 2000;
const CORPUS_CAP = 400;

const TOKENS = ['=', '"', ',', ' ', '\t', '\n', '-', '0x', '1', 'Y', 'n', 'times', 'delays',
  'arr', 's', 'int', 'charp', 'x'.repeat(200), '99999999999999999999', '\\', '\\\n', '#',
  'options ', 'softdep ', 'install ', 'alias ', 'blacklist ', 'pre:', 'post:', '[-_]', '\u00e9',
  '\u{1f600}', '\r\n', 'fuzzmod', 'fuzz-mod'];

function signatureOf(target: string, e: unknown): string {
  const err = e instanceof Error ? e : new Error(String(e));
  const frame = (err.stack ?? '').split('\n').find((l) => l.includes('/server/src/')) ?? '';
  const where = frame.replace(/^.*\/server\/src\//, '').replace(/:\d+\)?$/, '');
  return `${target}: ${err.name}: ${err.message.replace(/\d+/g, 'N')} @ ${where}`;
}

class Coverage {
  private readonly session = new inspector.Session();
  private readonly seen = new Set<string>();

  constructor() {
    this.session.connect();
    this.session.post('Profiler.enable');
    this.session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  }

  // New blocks (or count buckets) since the start; resets V8's counters.
  take(): number {
    let fresh = 0;
    this.session.post('Profiler.takePreciseCoverage', (err, res) => {
      if (err) return;
      for (const script of res.result) {
        if (!script.url.includes('/server/src/')) continue;
        for (const fn of script.functions) {
          for (const r of fn.ranges) {
            if (r.count === 0) continue;
            const bucket = Math.min(31 - Math.clz32(r.count), 8);
            const key = `${script.scriptId}:${r.startOffset}:${bucket}`;
            if (!this.seen.has(key)) {
              this.seen.add(key);
              fresh++;
            }
          }
        }
      }
    });
    return fresh;
  }
}

function mutateParams(b: Uint8Array, r: Rng, other: Uint8Array): Uint8Array {
  if (!r.chance(0.5)) return mutate(b, r, other);
  const text = Buffer.from(b).toString('latin1');
  const at = 1 + r.below(Math.max(1, text.length));
  const out = text.slice(0, at) + r.pick(TOKENS) + text.slice(at);
  return new Uint8Array(Buffer.from(out.slice(0, 4096), 'latin1'));
}

function main(input: WorkerInput) {
  const header = new Int32Array(input.shared, 0, 4);
  const data = new Uint8Array(input.shared, HEADER_BYTES, MAX_INPUT);
  // Coverage starts first: functions compiled before it would have no block counters.
  const coverage = new Coverage();
  const seeds = loadSeeds();
  for (const n of seeds.notes) parentPort!.postMessage({ type: 'note', text: n });
  const targets = makeTargets({ profiles: seeds.profiles, paramSpecs: seeds.paramSpecs })
    .filter((t) => !input.only || t.name === input.only);
  const rng = new Rng(input.seed);
  const corpus = new Map<string, Uint8Array[]>();
  const stats: Stats = { inputs: {}, corpus: {}, slowest: { ms: 0, target: '', size: 0 } };
  const reported = new Set<string>();

  const runOne = (ti: number, t: Target, bytes: Uint8Array): boolean => {
    data.set(bytes.subarray(0, MAX_INPUT));
    Atomics.store(header, 1, ti);
    Atomics.store(header, 2, bytes.length);
    Atomics.store(header, 3, 1);
    Atomics.add(header, 0, 1);
    const rss0 = process.resourceUsage().maxRSS * 1024;
    const t0 = performance.now();
    let failure: unknown;
    try {
      t.run(bytes);
    } catch (e) {
      failure = e;
    }
    const ms = performance.now() - t0;
    Atomics.store(header, 3, 0);
    const grew = process.resourceUsage().maxRSS * 1024 - rss0;
    stats.inputs[t.name] = (stats.inputs[t.name] ?? 0) + 1;
    if (ms > stats.slowest.ms) stats.slowest = { ms, target: t.name, size: bytes.length };

    const report = (f: Omit<Finding, 'target' | 'input' | 'ms'>, input = bytes) => {
      if (reported.has(f.signature)) return;
      reported.add(f.signature);
      parentPort!.postMessage({ type: 'finding', finding: { ...f, target: t.name, input, ms } });
    };
    if (failure !== undefined) {
      const signature = signatureOf(t.name, failure);
      const err = failure instanceof Error ? failure : new Error(String(failure));
      report({ kind: err.name === 'Violation' ? 'violation' : 'exception', signature,
        message: err.stack ?? err.message }, minimize(t, bytes, signature));
    } else if (grew > MEMORY_JUMP + 64 * bytes.length) {
      report({ kind: 'memory', signature: `${t.name}: memory ${bytes.length}`,
        message: `peak RSS grew by ${Math.round(grew / 1048576)} MB on a ${bytes.length}-byte ` +
          'input' });
    } else if (ms > SLOW_MS + bytes.length / 1000) {
      report({ kind: 'slow', signature: `${t.name}: slow ${bytes.length}`,
        message: `${ms.toFixed(0)} ms on a ${bytes.length}-byte input` });
    }
    return coverage.take() > 0;
  };

  // Shorter inputs that fail the same way, found by cutting from the end.
  const minimize = (t: Target, bytes: Uint8Array, signature: string): Uint8Array => {
    let best = bytes;
    for (let step = best.length >> 1; step >= 1; step >>= 1) {
      for (;;) {
        const cut = best.subarray(0, best.length - step);
        if (cut.length === best.length) break;
        let same = false;
        try {
          t.run(cut);
        } catch (e) {
          same = signatureOf(t.name, e) === signature;
        }
        if (!same) break;
        best = cut;
      }
    }
    return best.slice();
  };

  targets.forEach((t, ti) => {
    const list = (seeds.byTarget.get(t.name) ?? []).slice();
    for (const s of list) runOne(ti, t, s);
    corpus.set(t.name, list);
  });

  const deadline = performance.now() + input.seconds * 1000;
  let lastReport = performance.now();
  let i = 0;
  while (performance.now() < deadline) {
    const ti = i++ % targets.length;
    const t = targets[ti];
    const list = corpus.get(t.name)!;
    if (!list.length) continue;
    const parent = rng.pick(list);
    const other = rng.pick(list);
    const child = t.name === 'params' || t.name === 'modprobe'
      ? mutateParams(parent, rng, other)
      : mutate(parent, rng, other);
    if (runOne(ti, t, child) && list.length < CORPUS_CAP) list.push(child);
    if (performance.now() - lastReport > 1000) {
      for (const [k, v] of corpus) stats.corpus[k] = v.length;
      parentPort!.postMessage({ type: 'stats', stats });
      lastReport = performance.now();
    }
  }
  for (const [k, v] of corpus) stats.corpus[k] = v.length;
  parentPort!.postMessage({ type: 'stats', stats, done: true });
}

if (!isMainThread) main(workerData as WorkerInput);

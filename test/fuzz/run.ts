// `npm run fuzz -- [SECONDS] [--target NAME] [--seed N] [--out DIR]`: fuzz the engine for a
// while and print `inputs, crashes, slowest ms, peak RSS`. The loop runs in a worker
// (worker.ts); this side watches it, and when one input runs longer than the hang limit, or
// the worker dies (out of memory), it takes the input from shared memory, stops the worker and
// starts a new one. Every distinct finding is written to DIR (default: a fresh temporary
// directory) as a file to move into test/regressions/. Exits 1 when anything but a slow input
// was found.
//
// Why not @jazzer.js/core: its only native part (@jazzer.js/fuzzer 4.0.0) ships prebuilt
// binaries that need glibc 2.38, and Debian 12 here has 2.36; it ships no sources to build,
// and the older releases fetch their binaries from GitHub at install time, which this
// sandbox cannot reach. So coverage comes from V8 itself (see worker.ts).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { MAX_INPUT } from './mutate.js';
import { measureScaling } from './scaling.js';
import { HEADER_BYTES, type Finding, type Stats } from './worker.js';

const TARGETS = ['elf', 'module', 'decompress', 'load', 'params', 'modprobe'];
const HANG_MS = 20_000;

interface Options {
  seconds: number;
  only?: string;
  seed: number;
  out: string;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { seconds: 60, seed: Date.now() % 0x7fffffff, out: '' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--target') o.only = argv[++i];
    else if (a === '--seed') o.seed = Number(argv[++i]);
    else if (a === '--out') o.out = argv[++i];
    else if (/^\d+(\.\d+)?$/.test(a)) o.seconds = Number(a);
    else throw new Error(`unknown argument ${a}; usage: fuzz [SECONDS] [--target ` +
      `${TARGETS.join('|')}] [--seed N] [--out DIR]`);
  }
  if (o.only && !TARGETS.includes(o.only)) throw new Error(`no target ${o.only}`);
  o.out ||= fs.mkdtempSync(path.join(os.tmpdir(), 'kmodsim-fuzz-'));
  fs.mkdirSync(o.out, { recursive: true });
  return o;
}

interface Totals {
  inputs: Record<string, number>;
  corpus: Record<string, number>;
  slowest: Stats['slowest'];
  findings: Finding[];
  signatures: Set<string>;
}

function save(o: Options, t: Totals, f: Finding) {
  if (t.signatures.has(f.signature)) return;
  t.signatures.add(f.signature);
  t.findings.push(f);
  const n = String(t.findings.length).padStart(2, '0');
  const base = path.join(o.out, `${f.target}-${f.kind}-${n}`);
  fs.writeFileSync(`${base}.bin`, f.input);
  fs.writeFileSync(`${base}.txt`, `${f.signature}\n\n${f.message}\n`);
  console.log(`[fuzz] ${f.kind} in ${f.target} (${f.input.length} bytes): ` +
    `${f.message.split('\n')[0]}\n       saved as ${base}.bin`);
}

// One worker for the time left; resolves when it finishes, hangs or dies.
function runWorker(o: Options, seconds: number, seed: number, t: Totals): Promise<void> {
  const shared = new SharedArrayBuffer(HEADER_BYTES + MAX_INPUT);
  const header = new Int32Array(shared, 0, 4);
  const pending = (why: Finding['kind'], message: string) => {
    const len = Atomics.load(header, 2);
    const input = new Uint8Array(shared, HEADER_BYTES, Math.min(len, MAX_INPUT)).slice();
    const target = TARGETS.filter((x) => !o.only || x === o.only)[Atomics.load(header, 1)];
    save(o, t, { target, kind: why, signature: `${target}: ${why} ${len}`, message, input,
      ms: 0 });
  };
  return new Promise((resolve) => {
    // A worker does not inherit the --import hook that compiles TypeScript; register it there.
    const boot = `require('tsx/cjs/api').register(); ` +
      `require(${JSON.stringify(path.join(__dirname, 'worker.ts'))});`;
    const worker = new Worker(boot, {
      eval: true,
      workerData: { seconds, seed, only: o.only, shared },
      resourceLimits: { maxOldGenerationSizeMb: 2048 },
    });
    let lastSeq = -1;
    let since = Date.now();
    const watch = setInterval(() => {
      const seq = Atomics.load(header, 0);
      if (seq !== lastSeq || Atomics.load(header, 3) === 0) {
        lastSeq = seq;
        since = Date.now();
      } else if (Date.now() - since > HANG_MS) {
        clearInterval(watch);
        pending('exception', `hang: one input ran for more than ${HANG_MS / 1000} s`);
        void worker.terminate();
      }
    }, 250);
    worker.on('message', (m) => {
      if (m.type === 'note') console.log(`[fuzz] note: ${m.text}`);
      else if (m.type === 'finding') save(o, t, m.finding);
      else if (m.type === 'stats') {
        for (const [k, v] of Object.entries(m.stats.inputs as Record<string, number>)) {
          t.inputs[`${seed}:${k}`] = v;
        }
        Object.assign(t.corpus, m.stats.corpus);
        if (m.stats.slowest.ms > t.slowest.ms) t.slowest = m.stats.slowest;
      }
    });
    worker.on('error', (e) => {
      clearInterval(watch);
      if (Atomics.load(header, 0) === 0) {
        // Nothing ran: the harness itself is broken, not an input.
        console.error(`[fuzz] the worker failed before its first input: ${e.stack}`);
        process.exit(2);
      }
      const oom = (e as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY';
      pending(oom ? 'memory' : 'exception', `the worker died: ${e.message}`);
    });
    worker.on('exit', () => {
      clearInterval(watch);
      resolve();
    });
  });
}

async function main() {
  const o = parseOptions(process.argv.slice(2));
  console.log(`[fuzz] ${o.seconds} s, seed ${o.seed}, targets ` +
    `${o.only ?? TARGETS.join(' ')}, findings to ${o.out}`);
  const t: Totals = { inputs: {}, corpus: {}, slowest: { ms: 0, target: '', size: 0 },
    findings: [], signatures: new Set() };
  const end = Date.now() + o.seconds * 1000;
  let seed = o.seed;
  // A hang or a death costs one worker; the next one goes on with another seed.
  while (Date.now() < end - 1000) {
    await runWorker(o, (end - Date.now()) / 1000, seed, t);
    seed = (seed * 48271) % 0x7fffffff;
  }

  const perTarget = new Map<string, number>();
  for (const [k, v] of Object.entries(t.inputs)) {
    const name = k.split(':')[1];
    perTarget.set(name, (perTarget.get(name) ?? 0) + v);
  }
  const inputs = [...perTarget.values()].reduce((a, b) => a + b, 0);
  const crashes = t.findings.filter((f) => f.kind !== 'slow').length;
  for (const [name, n] of perTarget) {
    console.log(`[fuzz] ${name.padEnd(10)} ${String(n).padStart(8)} inputs, ` +
      `${t.corpus[name] ?? 0} kept for new coverage`);
  }
  // Time against size on real modules of 8 KB to the largest: figures, not a verdict.
  for (const row of measureScaling()) {
    const figures = row.points.map(([bytes, us]) => `${Math.round(bytes / 1024)} KB ` +
      `${us.toFixed(1)}`).join(', ');
    console.log(`[fuzz] scaling ${row.target.padEnd(6)} us/KB: ${figures}` +
      (row.superlinear ? '  <- grows faster than the input' : ''));
  }
  const peak = process.resourceUsage().maxRSS / 1024;
  console.log(`inputs ${inputs}, crashes ${crashes}, slowest ms ${t.slowest.ms.toFixed(1)} ` +
    `(${t.slowest.target}, ${t.slowest.size} bytes), peak RSS ${peak.toFixed(0)} MB`);
  if (crashes) {
    console.log(`[fuzz] ${crashes} finding(s) in ${o.out}: reproduce with ` +
      '`node --import tsx --test test/regressions/replay.test.ts` after moving them there');
  }
  process.exitCode = crashes ? 1 : 0;
}

void main();

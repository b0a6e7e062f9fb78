// The language server under the stress: a workspace of 5,000 modules, a module
// rewritten while it is being simulated and one deleted mid-run, a 1 GB file, symlink loops,
// files that cannot be read as modules (a FIFO, a directory, a dangling link), and a modprobe.d
// file of 100,000 lines. Used by server-stress.test.ts (what must hold) and, run directly, as
// `node --import tsx test/fuzz/server-stress.ts [MODULES [LINES]]`, it prints figures: completion
// latency while the scan runs, time to the first and last diagnostics, the server's peak RSS.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO } from '../support/corpus.js';
import { fileUri, LspClient } from '../lsp/client.js';

export interface StressWorkspace {
  dir: string;
  modules: string[];
  rewritten: string;
  deleted: string;
  big: string;
  conf: string;
  // A modprobe.d document the client keeps open and asks completions in.
  open: string;
  openText: string;
  // Lines of the 100,000 that kmod refuses: each must be reported once.
  badLines: number[];
}

export const HUGE_LINES = 100_000;
const BAD_EVERY = 5000;

export function makeStressWorkspace(moduleCount: number, confLines = HUGE_LINES):
  StressWorkspace {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kmodsim-stress-'));
  const hello = path.join(REPO, 'examples/hello/hello.ko');
  const modules: string[] = [];
  for (let i = 0; i < moduleCount; i++) {
    const sub = path.join(dir, 'build', `d${Math.floor(i / 500)}`);
    fs.mkdirSync(sub, { recursive: true });
    const file = path.join(sub, `m${i}.ko`);
    // Hard links: 5,000 names cost one file's blocks; each is its own path to the server.
    if (i === 0) fs.copyFileSync(hello, file);
    else fs.linkSync(modules[0], file);
    modules.push(file);
  }
  // Real copies for the two that change, so that changing them leaves the others alone.
  const rewritten = modules[1];
  const deleted = modules[2];
  for (const f of [rewritten, deleted]) {
    fs.rmSync(f);
    fs.copyFileSync(hello, f);
  }

  const big = path.join(dir, 'big.ko');
  fs.writeFileSync(big, '');
  fs.truncateSync(big, 1 << 30);
  fs.symlinkSync('.', path.join(dir, 'loop'));
  fs.mkdirSync(path.join(dir, 'a', 'b'), { recursive: true });
  fs.symlinkSync('../..', path.join(dir, 'a', 'b', 'up'));
  fs.symlinkSync(path.join(dir, 'nowhere.ko'), path.join(dir, 'dangling.ko'));
  fs.mkdirSync(path.join(dir, 'dir.ko'));
  fs.writeFileSync(path.join(dir, 'noperm.ko'), fs.readFileSync(hello).subarray(0, 100));
  fs.chmodSync(path.join(dir, 'noperm.ko'), 0);

  const confDir = path.join(dir, 'etc', 'modprobe.d');
  fs.mkdirSync(confDir, { recursive: true });
  const lines: string[] = [];
  const badLines: number[] = [];
  for (let i = 0; i < confLines; i++) {
    if (i % BAD_EVERY === BAD_EVERY - 1) {
      badLines.push(i);
      lines.push(`optoins m${i % moduleCount} x=1`);
    } else {
      lines.push(i % 2 ? `options m${i % moduleCount} times=${i}` : `alias pci:v${i}d* m${i}`);
    }
  }
  const conf = path.join(confDir, 'huge.conf');
  fs.writeFileSync(conf, lines.join('\n') + '\n');
  const open = path.join(confDir, 'typing.conf');
  const openText = 'options m0 ';
  fs.writeFileSync(open, openText);
  return { dir, modules, rewritten, deleted, big, conf, open, openText, badLines };
}

export function removeStressWorkspace(w: StressWorkspace) {
  fs.rmSync(w.dir, { recursive: true, force: true });
}

export function peakRssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  return m ? Number(m[1]) / 1024 : NaN;
}

export interface StressRun {
  client: LspClient;
  pid: number;
  completionMs: number[];
  scanMs: number;
}

// Starts the server on the workspace, changes it while the first scan runs, and asks for
// completions all along. Resolves once every module has a result.
export async function runStress(w: StressWorkspace): Promise<StressRun> {
  const t0 = performance.now();
  const client = await LspClient.start({ folders: [w.dir], debounceMs: 100 });
  const pid = (client as unknown as { proc: { pid: number } }).proc.pid;
  await client.open(w.open, 'modprobe', w.openText);
  const completionMs: number[] = [];
  let scanning = true;
  const ask = async () => {
    while (scanning) {
      const s = performance.now();
      await client.request('textDocument/completion', { textDocument: { uri: fileUri(w.open) },
        position: { line: 0, character: w.openText.length } });
      completionMs.push(performance.now() - s);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const asking = ask();

  // While the scan runs: one module rewritten over and over, one deleted.
  await new Promise((r) => setTimeout(r, 300));
  const hello = fs.readFileSync(path.join(REPO, 'examples/hello/hello.ko'));
  for (let i = 0; i < 5; i++) {
    const damaged = Buffer.from(hello);
    damaged[18] = i;
    fs.writeFileSync(w.rewritten, i === 4 ? hello.subarray(0, 3000) : damaged);
    await new Promise((r) => setTimeout(r, 20));
  }
  fs.rmSync(w.deleted);

  await client.request('kmodsim/modules', { wait: true });
  const scanMs = performance.now() - t0;
  scanning = false;
  await asking;
  return { client, pid, completionMs, scanMs };
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))] ?? NaN;
}

async function main() {
  const count = Number(process.argv[2] ?? 5000);
  const lines = Number(process.argv[3] ?? HUGE_LINES);
  const w = makeStressWorkspace(count, lines);
  try {
    const r = await runStress(w);
    const ms = r.completionMs;
    console.log(`modules ${count}, modprobe.d lines ${lines}, scan ` +
      `${(r.scanMs / 1000).toFixed(1)} s, completions ` +
      `${ms.length}: p50 ${percentile(ms, 50).toFixed(1)} ms, p99 ${percentile(ms, 99)
        .toFixed(1)} ms, max ${Math.max(...ms).toFixed(1)} ms, server peak RSS ` +
      `${peakRssMb(r.pid).toFixed(0)} MB`);
    await r.client.stop();
  } finally {
    removeStressWorkspace(w);
  }
}

if (require.main === module) void main();

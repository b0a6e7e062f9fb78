// npm run bench: the whole Debian 6.1.0-57-amd64 tree through kmodsim's full simulated load,
// next to depmod's symbol and CRC check and modinfo over the same files, in one run. Prints
// figures; asserts nothing. Targets are issue 6's; this script only measures.

import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkOne, findModules } from '../server/src/cli/check.js';
import { captureProfile } from '../server/src/kernel/capture.js';

const CACHE = process.env.KMODSIM_CACHE ?? path.join(os.homedir(), '.cache', 'kmodsim');
const REL = '6.1.0-57-amd64';
const TREE = path.join(CACHE, 'root', 'lib', 'modules', REL);
const HEADERS = path.join(CACHE, 'root', 'usr', 'src', `linux-headers-${REL}`);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

function seconds(f: () => void): number {
  const t = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

function spread(mid: number, xs: number[]): string {
  return `${mid.toFixed(2)} (${xs.map((x) => x.toFixed(2)).join(', ')})`;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

if (!fs.existsSync(TREE)) {
  process.stderr.write(`${TREE} is missing: run \`bash scripts/setup.sh\` first\n`);
  process.exit(2);
}
const files = findModules([path.join(TREE, 'kernel')]);
const bytes = files.reduce((n, f) => n + fs.statSync(f).size, 0);
const profile = captureProfile(HEADERS, { modulesDir: TREE });

const kmodsim: number[] = [];
let relocations = 0;
for (let round = 0; round < ROUNDS; round++) {
  relocations = 0;
  kmodsim.push(seconds(() => {
    for (const f of files) relocations += checkOne(profile, f, {}).relocationsApplied;
  }));
}

// depmod needs a module tree under a base dir; a hard-linked copy leaves the cache untouched.
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'kmodsim-bench-'));
const linked = path.join(base, 'lib', 'modules', REL);
fs.mkdirSync(path.dirname(linked), { recursive: true });
execFileSync('cp', ['-al', TREE, linked]);
const depmod: number[] = [];
const modinfo: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  depmod.push(seconds(() => spawnSync('depmod', ['-b', base, '-n', '-e', '-E',
    path.join(HEADERS, 'Module.symvers'), REL], { stdio: 'ignore' })));
  modinfo.push(seconds(() => {
    for (let i = 0; i < files.length; i += 500) {
      spawnSync('modinfo', files.slice(i, i + 500), { stdio: 'ignore' });
    }
  }));
}
fs.rmSync(base, { recursive: true, force: true });

const k = median(kmodsim);
const d = median(depmod);
const m = median(modinfo);
const rows = [
  ['files', String(files.length)],
  ['bytes', String(bytes)],
  ['relocations applied', String(relocations)],
  ['kmodsim full load, median s', spread(k, kmodsim)],
  ['depmod -n -e -E, median s', spread(d, depmod)],
  ['modinfo (batched), median s', spread(m, modinfo)],
  ['kmodsim / depmod', (k / d).toFixed(1)],
  ['kmodsim / modinfo', (k / m).toFixed(1)],
  ['peak RSS MB', (process.resourceUsage().maxRSS / 1024).toFixed(0)],
];
for (const [a, b] of rows) process.stdout.write(`${a.padEnd(30)} ${b}\n`);
fs.mkdirSync(path.join(__dirname), { recursive: true });
fs.writeFileSync(path.join(__dirname, 'results.json'), JSON.stringify({
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
  files: files.length, bytes, relocations, rounds: ROUNDS,
  seconds: { kmodsim, depmod, modinfo },
  ratios: { kmodsim_vs_depmod: k / d, kmodsim_vs_modinfo: k / m },
}, null, 2) + '\n');

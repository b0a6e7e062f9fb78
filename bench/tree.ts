// npm run bench: kmodsim's full simulated load of whole Debian module trees, next to the tools
// people run on the same files today, in one invocation. Every tool runs as its own process,
// warm cache, BENCH_ROUNDS rounds (default 5) taken in turn so that noise falls on all of
// them alike. Prints a table and writes bench/results.json; asserts nothing (issue 6 sets the
// targets, this script only measures them).

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findModules } from '../server/src/cli/check.js';
import { measureEditor, type EditorFigures } from './lsp-client.js';

const REPO = path.resolve(__dirname, '..');
const CACHE = process.env.KMODSIM_CACHE ?? path.join(os.homedir(), '.cache', 'kmodsim');
const ROOT = path.join(CACHE, 'root');
const REL_61 = '6.1.0-57-amd64';
const REL_612 = '6.12.107+deb12-amd64';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CLI = path.join(REPO, 'dist', 'cli.js');
const PEAK_RSS = path.join(REPO, 'bench', 'peak-rss.cjs');
const PROFILE_61 = path.join(REPO, 'profiles', `debian-${REL_61}.json`);

const modulesOf = (rel: string) => path.join(ROOT, 'lib', 'modules', rel);
const headersOf = (rel: string) => path.join(ROOT, 'usr', 'src', `linux-headers-${rel}`);

for (const need of [modulesOf(REL_61), modulesOf(REL_612), headersOf(REL_61)]) {
  if (!fs.existsSync(need)) {
    process.stderr.write(`${need} is missing: run \`bash scripts/setup.sh\` first\n`);
    process.exit(2);
  }
}

// Build the bundles the editor and the CLI run, so the figures are those of this checkout.
execFileSync(process.execPath, [path.join(REPO, 'esbuild.mjs')], { cwd: REPO, stdio: 'inherit' });

const tree61 = findModules([path.join(modulesOf(REL_61), 'kernel')]);
const tree612 = findModules([path.join(modulesOf(REL_612), 'kernel')]);
const sizeOf = (files: string[]) => files.reduce((n, f) => n + fs.statSync(f).size, 0);
const amdgpu = tree61.find((f) => f.endsWith('/amdgpu.ko'))!;
// A typical module: the one nearest the tree's median size, 35 KB.
const typicalModule = [...tree61].map((f) => ({ f, size: fs.statSync(f).size }))
  .sort((a, b) => Math.abs(a.size - 35 * 1024) - Math.abs(b.size - 35 * 1024))[0].f;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kmodsim-bench-'));

// The 6.12 tree's own profile, captured once before any timing, as CI would keep it.
const PROFILE_612 = path.join(work, `${REL_612}.json`);
execFileSync(process.execPath, [CLI, 'profile', 'capture', headersOf(REL_612), '--modules',
  modulesOf(REL_612), '-o', PROFILE_612], { stdio: ['ignore', 'ignore', 'inherit'] });

// depmod wants the tree under a base directory; a hard-linked copy leaves the cache untouched.
const depmodBase = path.join(work, 'depmod');
fs.mkdirSync(path.join(depmodBase, 'lib', 'modules'), { recursive: true });
execFileSync('cp', ['-al', modulesOf(REL_61), path.join(depmodBase, 'lib', 'modules', REL_61)]);

// cpuSeconds: a kmodsim run's CPU time, all threads; less disturbed by a busy machine than
// the wall time is.
interface Run { seconds: number; peakRssMB?: number; cpuSeconds?: number; ok: boolean;
  note?: string }

const devNull = fs.openSync('/dev/null', 'w');

// Runs one command to completion with stdout to /dev/null; the wall time includes the
// process's start, as a user sees it.
function timeCommand(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Run {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', devNull, 'pipe'], env, maxBuffer: 1 << 26 });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  const ok = r.status === 0 || (cmd === 'readelf' && r.status !== null);
  return { seconds, ok, note: ok ? undefined : `${cmd} exit ${r.status}: ${r.stderr}` };
}

// A file list in argument batches, the way xargs would run the tool.
function timeBatched(cmd: string, pre: string[], files: string[]): Run {
  let seconds = 0;
  let ok = true;
  for (let i = 0; i < files.length; i += 500) {
    const r = timeCommand(cmd, [...pre, ...files.slice(i, i + 500)]);
    seconds += r.seconds;
    ok &&= r.ok;
  }
  return { seconds, ok };
}

function timeKmodsim(args: string[], expect: RegExp): Run {
  const rssFile = path.join(work, 'rss');
  fs.rmSync(rssFile, { force: true });
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['--require', PEAK_RSS, CLI, ...args], {
    env: { ...process.env, KMODSIM_PEAK_RSS_FILE: rssFile }, encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  const summary = r.stdout.trim().split('\n').pop() ?? '';
  const ok = expect.test(summary);
  const [kb, cpu] = fs.existsSync(rssFile) ? fs.readFileSync(rssFile, 'utf8').split(' ')
    .map(Number) : [0, 0];
  return { seconds, ok, note: ok ? undefined : `unexpected output: ${summary} ${r.stderr}`,
    peakRssMB: kb / 1024, cpuSeconds: cpu };
}

// `reads`: the files a measurement reads, read once more (untimed) right before it runs.
const measurements: Record<string, { what: string; reads?: string[]; run: () => Run }> = {
  kmodsim_tree: {
    what: `kmodsim check, whole ${REL_61} tree`, reads: tree61,
    run: () => timeKmodsim(['check', path.join(modulesOf(REL_61), 'kernel'), '-k', PROFILE_61,
      '-q'], new RegExp(`^${tree61.length}/${tree61.length} modules load`)),
  },
  depmod: {
    what: 'depmod -n -e -E Module.symvers', reads: tree61,
    run: () => timeCommand('depmod', ['-b', depmodBase, '-n', '-e', '-E',
      path.join(headersOf(REL_61), 'Module.symvers'), REL_61]),
  },
  modinfo_tree: { what: 'modinfo, batched', reads: tree61,
    run: () => timeBatched('modinfo', [], tree61) },
  readelf_tree: { what: 'readelf -rW, batched', reads: tree61,
    run: () => timeBatched('readelf', ['-rW'], tree61) },
  cat_tree: { what: 'cat > /dev/null, batched', reads: tree61,
    run: () => timeBatched('cat', [], tree61) },
  kmodsim_amdgpu: {
    what: 'kmodsim check amdgpu.ko', reads: [amdgpu],
    run: () => timeKmodsim(['check', amdgpu, '-k', PROFILE_61, '-q'], /^1\/1 modules load/),
  },
  readelf_amdgpu: { what: 'readelf -rW amdgpu.ko', reads: [amdgpu],
    run: () => timeCommand('readelf', ['-rW', amdgpu]) },
  kmodsim_xz_tree: {
    what: `kmodsim check, whole ${REL_612} .ko.xz tree`, reads: tree612,
    run: () => timeKmodsim(['check', path.join(modulesOf(REL_612), 'kernel'), '-k', PROFILE_612,
      '-q'], new RegExp(`^${tree612.length}/${tree612.length} modules load`)),
  },
  modinfo_xz_tree: { what: 'modinfo .ko.xz, batched', reads: tree612,
    run: () => timeBatched('modinfo', [], tree612) },
  // Floors, to say why a target is missed: what parts of the load cost by themselves.
  node_start: { what: 'floor: node -e 0 (process start)', run: () => timeCommand(
    process.execPath, ['-e', '0']) },
  signature_floor: { what: 'floor: SHA-256 + RSA verify of every 6.1 module, 1 thread',
    reads: tree61, run: () => timeFloor('signature', tree61, PROFILE_61) },
  // 6.12's modules are signed with an ECDSA P-384 key, whose verification costs more.
  xz_signature_floor: { what: 'floor: SHA-256 + ECDSA verify of every 6.12 module, 1 thread',
    reads: tree612, run: () => timeFloor('signature', tree612, PROFILE_612) },
  // What one thread holds before any module: node, the bundle and the profile.
  one_module: { what: 'floor: kmodsim check of one 35 KB module', reads: [typicalModule],
    run: () => timeKmodsim(['check', typicalModule, '-k', PROFILE_61, '-q'],
      /^1\/1 modules load/) },
  // What a second core gives on this machine: sha256sum of amdgpu.ko eight times, once, and
  // as many times at once as there are cores.
  cores_one: { what: 'machine: sha256sum x8 of amdgpu.ko, one at a time', run: () =>
    timeCommand('sha256sum', Array(8).fill(amdgpu)) },
  cores_all: { what: `machine: the same, ${os.availableParallelism()} at once`, run: () =>
    timeCommand('sh', ['-c', `${Array(os.availableParallelism()).fill(
      `sha256sum ${Array(8).fill(JSON.stringify(amdgpu)).join(' ')} &`).join(' ')} wait`]) },
  xz_dc_tree: { what: 'floor: xz -dc (liblzma) of the .ko.xz tree, batched', reads: tree612,
    run: () => timeBatched('xz', ['-dc'], tree612) },
  lzma_floor: { what: 'floor: kmodsim\'s xz decoder on the .ko.xz tree, 1 thread',
    reads: tree612, run: () => timeFloor('xz', tree612) },
};

// A floor (bench/floors.ts) in its own process; it times its own loop, without node's start.
function timeFloor(what: string, files: string[], profile = PROFILE_61): Run {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'bench',
    'floors.ts'), what, profile], { input: files.join('\n'), encoding: 'utf8',
    maxBuffer: 1 << 26 });
  const ok = r.status === 0;
  return { seconds: ok ? Number(r.stdout) : NaN, ok, note: ok ? undefined : r.stderr };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

// The bench keeps every core busy itself, so the load during the rounds is mostly its own:
// whether other work shared the machine is judged from before it starts. Up to two minutes
// are given for an earlier job's load to decay (the 1-minute average falls by e in 60 s).
const QUIET_LOAD = 0.7;
for (let waited = 0; os.loadavg()[0] >= QUIET_LOAD && waited < 120; waited += 5) {
  if (waited === 0) process.stderr.write(`waiting for the load average to fall below ${
    QUIET_LOAD}\n`);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5000);
}
const loadBefore = os.loadavg();
process.stderr.write(`warm-up, then ${ROUNDS} rounds (load average ${loadBefore[0]})\n`);
// Each measurement's files are read right before it: this machine's kernel reclaims cold page
// cache within seconds (DAMON), and a tool run just after another over the same tree would
// otherwise find it warmer than the one before it did.
const measure = (key: string): Run => {
  const files = measurements[key].reads;
  if (files) timeBatched('cat', [], files);
  return measurements[key].run();
};

for (const key of Object.keys(measurements)) measure(key);
const runs: Record<string, Run[]> = {};
const loadPerRound: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  for (const key of Object.keys(measurements)) (runs[key] ??= []).push(measure(key));
  loadPerRound.push(os.loadavg()[0]);
  process.stderr.write(`round ${round + 1}/${ROUNDS} done, load average ${os.loadavg()[0]}\n`);
}

async function editor(): Promise<EditorFigures> {
  return measureEditor({ server: path.join(REPO, 'dist', 'server.js'), profile: PROFILE_61,
    work: path.join(work, 'editor'), modules: { typical: typicalModule, amdgpu },
    rounds: ROUNDS, spawn });
}

void editor().then((lsp) => {
  const loadAfter = os.loadavg();
  fs.rmSync(work, { recursive: true, force: true });
  report(lsp, loadAfter);
});

function report(lsp: EditorFigures, loadAfter: number[]) {
  const figures: Record<string, unknown> = {};
  const med: Record<string, number> = {};
  for (const [key, rs] of Object.entries(runs)) {
    const secs = rs.map((r) => r.seconds);
    med[key] = median(secs);
    const rss = rs.map((r) => r.peakRssMB).filter((x): x is number => x !== undefined);
    figures[key] = { what: measurements[key].what, median_s: med[key], min_s: Math.min(...secs),
      max_s: Math.max(...secs), runs_s: secs, all_ok: rs.every((r) => r.ok),
      notes: rs.map((r) => r.note).filter(Boolean),
      peak_rss_mb: rss.length ? Math.max(...rss) : undefined,
      cpu_s: rs[0].cpuSeconds === undefined ? undefined
        : median(rs.map((r) => r.cpuSeconds ?? 0)) };
  }
  const ratios = {
    kmodsim_vs_depmod: med.kmodsim_tree / med.depmod,
    kmodsim_vs_cat: med.kmodsim_tree / med.cat_tree,
    kmodsim_vs_modinfo: med.kmodsim_tree / med.modinfo_tree,
    kmodsim_vs_readelf: med.kmodsim_tree / med.readelf_tree,
    amdgpu_vs_readelf: med.kmodsim_amdgpu / med.readelf_amdgpu,
    xz_tree_vs_modinfo: med.kmodsim_xz_tree / med.modinfo_xz_tree,
  };
  // Each ratio round by round (the tools ran one after the other within a round), to show how
  // far the machine's noise moves a ratio that is near its target.
  const perRound = (a: string, b: string) => runs[a].map((r, i) => r.seconds / runs[b][i].seconds);
  const ratiosPerRound = {
    kmodsim_vs_depmod: perRound('kmodsim_tree', 'depmod'),
    kmodsim_vs_cat: perRound('kmodsim_tree', 'cat_tree'),
    amdgpu_vs_readelf: perRound('kmodsim_amdgpu', 'readelf_amdgpu'),
    xz_tree_vs_modinfo: perRound('kmodsim_xz_tree', 'modinfo_xz_tree'),
  };
  const jobs = os.availableParallelism();
  const largest = Math.max(...tree61.map((f) => fs.statSync(f).size)) / 2 ** 20;
  const rssLimit = largest + 64 * jobs;
  const peak = (k: string) => (figures[k] as { peak_rss_mb: number }).peak_rss_mb;
  // The floors beside the tools they are compared with.
  const floors = {
    signature_check_on_all_cores_vs_depmod: med.signature_floor / jobs / med.depmod,
    // The xz tree's two fixed costs, decoding and verifying, shared by all cores.
    xz_decode_and_signature_on_all_cores_vs_modinfo: (med.lzma_floor + med.xz_signature_floor)
      / jobs / med.modinfo_xz_tree,
    node_start_vs_readelf_amdgpu: med.node_start / med.readelf_amdgpu,
    kmodsim_xz_decoder_vs_liblzma: med.lzma_floor / med.xz_dc_tree,
    // 2.0 on two real, idle cores.
    effective_cores: jobs * med.cores_one / med.cores_all,
    // One thread's memory with its first module, against the 64 MB a worker is given.
    one_thread_rss_mb: peak('one_module'),
  };
  const targets = {
    kmodsim_vs_depmod: { target: '<= 1.0', value: ratios.kmodsim_vs_depmod,
      met: ratios.kmodsim_vs_depmod <= 1 },
    kmodsim_vs_cat: { target: '<= 3', value: ratios.kmodsim_vs_cat,
      met: ratios.kmodsim_vs_cat <= 3 },
    amdgpu_vs_readelf: { target: '<= 0.5', value: ratios.amdgpu_vs_readelf,
      met: ratios.amdgpu_vs_readelf <= 0.5 },
    xz_tree_vs_modinfo: { target: '<= 1.0', value: ratios.xz_tree_vs_modinfo,
      met: ratios.xz_tree_vs_modinfo <= 1 },
    editor_typical_ms: { target: '<= 100', value: lsp.typical?.median_ms ?? null,
      met: lsp.typical ? lsp.typical.median_ms <= 100 : null },
    editor_amdgpu_ms: { target: '<= 1000', value: lsp.amdgpu?.median_ms ?? null,
      met: lsp.amdgpu ? lsp.amdgpu.median_ms <= 1000 : null },
    peak_rss_mb: { target: `<= largest file (${largest.toFixed(1)} MB) + 64 MB x ${jobs} ` +
      `workers = ${rssLimit.toFixed(0)} MB`,
      value: Math.max(peak('kmodsim_tree'), peak('kmodsim_amdgpu'), peak('kmodsim_xz_tree')),
      met: Math.max(peak('kmodsim_tree'), peak('kmodsim_amdgpu'), peak('kmodsim_xz_tree'))
        <= rssLimit },
  };
  const quiet = loadBefore[0] < QUIET_LOAD;
  const results = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memory_gb:
      +(os.totalmem() / 2 ** 30).toFixed(1), kernel: os.release(), node: process.version },
    load_average: { before: loadBefore, per_round: loadPerRound, after: loadAfter,
      quiet, note: quiet ? `machine quiet before the run (1-minute load average below ${
        QUIET_LOAD}); the load during the rounds is the bench's own`
        : 'other work was running when the bench started: figures are noisy' },
    rounds: ROUNDS,
    trees: {
      [REL_61]: { files: tree61.length, bytes: sizeOf(tree61), relocations: 5671370 },
      [REL_612]: { files: tree612.length, bytes: sizeOf(tree612) },
      amdgpu: { file: amdgpu, bytes: fs.statSync(amdgpu).size },
    },
    figures, editor: lsp, ratios, ratios_per_round: ratiosPerRound, targets, floors,
  };
  fs.writeFileSync(path.join(REPO, 'bench', 'results.json'),
    JSON.stringify(results, null, 2) + '\n');

  const fmt = (k: string) => {
    const f = figures[k] as { median_s: number; min_s: number; max_s: number;
      peak_rss_mb?: number; cpu_s?: number; all_ok: boolean };
    const rss = f.peak_rss_mb ? `  peak RSS ${f.peak_rss_mb.toFixed(0)} MB, CPU ` +
      `${f.cpu_s?.toFixed(2)} s` : '';
    return `${f.median_s.toFixed(3)} s  (${f.min_s.toFixed(3)}-${f.max_s.toFixed(3)})${rss}` +
      (f.all_ok ? '' : '  SOME RUNS FAILED');
  };
  const out: string[] = [];
  out.push(`${results.machine.model}, ${results.machine.cpus} CPUs, node ${process.version}; ` +
    `${ROUNDS} rounds, median (min-max); load average ${loadBefore[0].toFixed(2)} before, ` +
    `max ${Math.max(...loadPerRound).toFixed(2)} during${quiet ? '' : ' (NOISY)'}`);
  for (const key of Object.keys(measurements)) {
    out.push(`${measurements[key].what.padEnd(46)} ${fmt(key)}`);
  }
  const ms = (e?: { median_ms: number; min_ms: number; max_ms: number }) => e
    ? `${e.median_ms.toFixed(0)} ms  (${e.min_ms.toFixed(0)}-${e.max_ms.toFixed(0)})`
    : `not available: ${lsp.unavailable}`;
  out.push(`${'editor: settled -> diagnostics, 35 KB module'.padEnd(46)} ${ms(lsp.typical)}`);
  out.push(`${'editor: settled -> diagnostics, amdgpu.ko'.padEnd(46)} ${ms(lsp.amdgpu)}`);
  out.push('');
  for (const [k, t] of Object.entries(targets)) {
    const v = typeof t.value === 'number' ? t.value.toFixed(2) : 'n/a';
    const verdict = t.met === null ? 'not measured' : t.met ? 'met' : 'NOT met';
    const rounds = (ratiosPerRound as Record<string, number[]>)[k];
    const spread = rounds ? `   (rounds ${Math.min(...rounds).toFixed(2)}-` +
      `${Math.max(...rounds).toFixed(2)})` : '';
    out.push(`${k.padEnd(24)} ${v.padStart(8)}   target ${t.target}: ${verdict}${spread}`);
  }
  out.push('');
  for (const [k, v] of Object.entries(floors)) out.push(`${k.padEnd(40)} ${v.toFixed(2)}`);
  process.stdout.write(out.join('\n') + '\n');
}

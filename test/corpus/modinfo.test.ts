// formatModinfo against the real kmod `modinfo` for every module of the two Debian trees that
// scripts/setup.sh unpacks, and for the project's own test modules; plus pinned parameter
// defaults of kmsim_params. Needs /usr/bin/modinfo (kmod 30, built with libcrypto).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

import { readModuleFile } from '../../server/src/kernel/capture.js';
import { ModuleImage } from '../../server/src/module/image.js';
import type { ModuleParam } from '../../server/src/module/params.js';
import {
  formatModinfo, formatParamDefaults, PARAM_BLOCK_HEADER,
} from '../../server/src/report/modinfo.js';

const run = promisify(execFile);

const CACHE = process.env.KMODSIM_CACHE ?? path.join(os.homedir(), '.cache', 'kmodsim');
const TREES = [
  { release: '6.1.0-57-amd64', suffix: '.ko', count: 4023 },
  { release: '6.12.107+deb12-amd64', suffix: '.ko.xz', count: 4229 },
];
const OWN_BUILD = path.join(__dirname, '..', 'modules', 'build');
// Files per modinfo exec: few enough for ARG_MAX, many enough that exec cost vanishes.
const BATCH = 200;

function listModules(dir: string, suffix: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith(suffix)) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

// modinfo prints the files one after another with nothing in between, each starting with its
// `filename:` line; the paths are absolute, so that line is known in advance for every file.
async function realModinfo(files: string[]): Promise<Map<string, Buffer>> {
  const batches: string[][] = [];
  for (let i = 0; i < files.length; i += BATCH) batches.push(files.slice(i, i + BATCH));
  const outputs: Buffer[] = new Array(batches.length);
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const i = next++;
      const r = await run('modinfo', batches[i], { encoding: 'buffer', maxBuffer: 1 << 28 });
      outputs[i] = r.stdout;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, os.cpus().length) }, worker));

  const result = new Map<string, Buffer>();
  batches.forEach((batch, b) => {
    const out = outputs[b];
    const starts = batch.map((file, k) => {
      const marker = Buffer.from(`filename:       ${file}\n`);
      const at = k === 0 ? 0 : out.indexOf(Buffer.concat([Buffer.from('\n'), marker])) + 1;
      assert.ok(k === 0 ? out.subarray(0, marker.length).equals(marker) : at > 0,
        `modinfo output has no filename line for ${file}`);
      return at;
    });
    batch.forEach((file, k) => {
      result.set(file, out.subarray(starts[k], k + 1 < batch.length ? starts[k + 1] : out.length));
    });
  });
  return result;
}

function firstDifference(want: Buffer, got: Buffer): string {
  const a = want.toString('latin1').split('\n');
  const b = got.toString('latin1').split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      return `line ${i + 1}: modinfo ${JSON.stringify(a[i] ?? '<end>')}, ` +
        `kmodsim ${JSON.stringify(b[i] ?? '<end>')}`;
    }
  }
  return 'identical lines, different bytes';
}

interface Parity {
  label: string;
  matched: number;
  total: number;
  failures: string[];
  decodeMs: number;
}

function formatAll(files: readonly string[]): string[] {
  return files.map((file) => formatModinfo(file, readModuleFile(file)));
}

// xz decoding and PKCS#7 parsing cost a few ms per module, so the files are spread over one
// worker per CPU; this same file is the worker's entry point.
async function formatInWorkers(files: string[]): Promise<Map<string, Buffer>> {
  const n = Math.max(1, Math.min(os.cpus().length, Math.ceil(files.length / 50)));
  const shares = Array.from({ length: n }, (_, w) => files.filter((_, i) => i % n === w));
  const outputs = await Promise.all(shares.map((share) => new Promise<string[]>((ok, fail) => {
    // Workers do not inherit the tsx loader of `node --import tsx`; register it by hand.
    const entry = `require('tsx/cjs'); require(${JSON.stringify(__filename)});`;
    const worker = new Worker(entry, { eval: true, workerData: share });
    worker.once('message', ok);
    worker.once('error', fail);
  })));
  const out = new Map<string, Buffer>();
  shares.forEach((share, w) => share.forEach((f, i) => out.set(f, Buffer.from(outputs[w][i]))));
  return out;
}

async function compare(label: string, files: string[]): Promise<Parity> {
  // Both sides run at once, so kmod's decompression overlaps with ours.
  const realPromise = realModinfo(files);
  const t0 = performance.now();
  const ours = await formatInWorkers(files);
  const decodeMs = performance.now() - t0;
  const real = await realPromise;
  const failures: string[] = [];
  for (const file of files) {
    const want = real.get(file) ?? Buffer.alloc(0);
    const got = ours.get(file) ?? Buffer.alloc(0);
    if (!want.equals(got)) failures.push(`${file}: ${firstDifference(want, got)}`);
  }
  const matched = files.length - failures.length;
  return { label, matched, total: files.length, failures, decodeMs };
}

function report(results: Parity[]) {
  console.log('modinfo parity: ' +
    results.map((r) => `${r.matched}/${r.total} (${r.label})`).join(', '));
  for (const r of results) {
    console.log(`  ${r.label}: kmodsim read+decompress+format ${(r.decodeMs / 1000).toFixed(2)} s` +
      ` wall, ${os.cpus().length} workers`);
  }
  const failures = results.flatMap((r) => r.failures);
  assert.equal(failures.length, 0,
    `${failures.length} modules differ from modinfo:\n${failures.slice(0, 20).join('\n')}`);
}

if (!isMainThread) {
  parentPort?.postMessage(formatAll(workerData as string[]));
} else {
  registerTests();
}

function registerTests() {
  test('modinfo is byte-identical to kmod for every module of both Debian trees', async () => {
    const results: Parity[] = [];
    for (const tree of TREES) {
      const dir = path.join(CACHE, 'root', 'lib', 'modules', tree.release, 'kernel');
      assert.ok(fs.existsSync(dir), `${dir} is missing: run \`bash scripts/setup.sh\` first`);
      const files = listModules(dir, tree.suffix);
      assert.equal(files.length, tree.count,
        `${dir}: expected ${tree.count} *${tree.suffix} files; rerun \`bash scripts/setup.sh\``);
      results.push(await compare(tree.release, files));
    }
    report(results);
  });

  function ownModules(release: string): string[] {
    const dir = path.join(OWN_BUILD, release);
    assert.ok(fs.existsSync(dir), `${dir} is missing: run \`bash scripts/setup.sh\` first`);
    const names = fs.readdirSync(dir).filter((f) => f.endsWith('.ko')).sort();
    return names.map((f) => path.join(dir, f));
  }

  test('modinfo output is byte-identical to kmod for the test modules', async () => {
    const results: Parity[] = [];
    for (const tree of TREES) {
      const files = ownModules(tree.release);
      assert.ok(files.some((f) => f.endsWith('/kmsim_params.ko')), 'kmsim_params.ko not built');
      results.push(await compare(`test/modules ${tree.release}`, files));
    }
    report(results);
  });

  test('a relative path is printed as kmod does: cwd prefixed, nothing cleaned', async () => {
    const rel = path.join('.', path.relative(process.cwd(), ownModules(TREES[0].release)[0]));
    const real = await run('modinfo', [rel], { encoding: 'buffer' });
    assert.equal(formatModinfo(rel, readModuleFile(rel)), real.stdout.toString('utf8'));
  });

  // Shapes no Debian module has, made by same-length edits of .modinfo strings in a copy of
  // kmsim_params.ko: a parmtype without ':', a second parm= for a name (p_int, whose own comes
  // earlier in the file), a parmtype with an empty name, and a string without '='.
  test('odd parm/parmtype shapes and keys without a value match kmod', async () => {
    const src = path.join(OWN_BUILD, TREES[0].release, 'kmsim_params.ko');
    const bytes = Buffer.from(fs.readFileSync(src));
    const edits: [string, string][] = [
      ['parmtype=p_hidden:int', 'parmtype=p_hidden_int'],
      ['parm=p_byte:a byte, default 0xab', 'parm=p_int:Xa byte, default 0xab'],
      ['parmtype=p_ports:array of ushort', 'parmtype=:p_portsarray of ushort'],
      ['retpoline=Y', 'retpolineYY'],
    ];
    for (const [from, to] of edits) {
      assert.equal(from.length, to.length);
      const at = bytes.indexOf(`\0${from}\0`);
      assert.ok(at >= 0, `${from} not found in ${src}`);
      bytes.write(to, at + 1, 'latin1');
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kmodsim-modinfo-'));
    try {
      const file = path.join(dir, 'odd.ko');
      fs.writeFileSync(file, bytes);
      const real = await run('modinfo', [file], { encoding: 'buffer' });
      const ours = formatModinfo(file, new Uint8Array(bytes));
      assert.equal(ours, real.stdout.toString('utf8'));
      assert.match(ours, /^parm: {11}p_int:Xa byte, default 0xab \(int\)$/m);
      assert.match(ours, /^parm: {11}p_byte:byte$/m);
      assert.match(ours, /^parm: {11}:p_portsarray of ushort$/m);
      assert.match(ours, /^retpolineYY: {4}$/m);
      assert.doesNotMatch(ours, /p_hidden/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  function paramsOf(release: string): Map<string, ModuleParam> {
    const file = path.join(OWN_BUILD, release, 'kmsim_params.ko');
    return new Map(ModuleImage.open(readModuleFile(file)).params.map((p) => [p.name, p]));
  }

  // Expected values are test/modules/src/kmsim_params.c's initialisers, as sysfs would print them.
  for (const tree of TREES) {
    test(`kmsim_params defaults (${tree.release})`, () => {
      const ps = paramsOf(tree.release);
      const d = (name: string) => ps.get(name)?.defaultValue;
      assert.equal(d('p_byte'), '171'); // kmsim_params.c:11  p_byte = 0xab
      assert.equal(d('p_short'), '-1234'); // :15  p_short = -1234
      assert.equal(d('p_uint'), '3000000000'); // :27  p_uint = 3000000000U
      assert.equal(d('p_long'), '-9876543210'); // :31  p_long = -9876543210L
      assert.equal(d('p_ullong'), '1234605616436508552'); // :39  0x1122334455667788ULL
      assert.equal(d('p_hexint'), '0xc0ffee'); // :43  p_hexint = 0xc0ffee
      assert.equal(d('p_charp'), 'kmsim-default'); // :47  p_charp = "kmsim-default"
      assert.equal(d('p_invbool'), 'N'); // :55  p_invbool = true, read back inverted
      assert.equal(d('p_string'), 'abc1234'); // :64  p_string[8] = "abc1234"
      assert.equal(ps.get('p_string')?.stringMaxLen, 8); // :64  sizeof(p_string)
      assert.equal(d('p_ints'), '11,22,33,44'); // :68-69  { 11, 22, 33, 44 }, count 4
      assert.equal(ps.get('p_ints')?.arrayCount, 4);
      // :73  { "alpha", "beta" } in 3 slots, no count variable: all 3 are shown.
      assert.deepEqual(ps.get('p_names')?.arrayDefaults, ['alpha', 'beta', '(null)']);
      assert.equal(d('p_flags'), 'Y,N,Y'); // :77  { true, false, true }
      assert.equal(d('p_ports'), '8080,4433'); // :81  { 8080, 4433 }
      assert.equal(d('p_hidden'), '99'); // :118  p_hidden = 99
      assert.equal(ps.get('p_hidden')?.perm, 0); // :119  perm 0
      assert.equal(ps.get('p_even')?.type, 'custom'); // :109  module_param_cb
    });

    test(`kmsim_params kmodsim block (${tree.release})`, () => {
      const file = path.join(OWN_BUILD, tree.release, 'kmsim_params.ko');
      const block = formatParamDefaults(ModuleImage.open(readModuleFile(file)));
      const lines = block.split('\n');
      assert.equal(lines[0], PARAM_BLOCK_HEADER);
      // One line per parameter (21 in the source), in the order of kmod's parm: lines.
      const params = lines.filter((l) => /^  \S/.test(l));
      assert.equal(params.length, 21);
      assert.match(params[0], /^ {2}p_byte +byte +perm 0444 {2}default: 171$/);
      const ints = /^ {2}p_ints +int\[4\] +perm 0444 {2}default: 11,22,33,44 {2}\(count 4 of 4\)$/;
      assert.ok(params.some((l) => ints.test(l)));
      assert.ok(params.some((l) => /^ {2}p_string +string\[8\] .*default: "abc1234"$/.test(l)));
      assert.ok(params.some((l) => /p_even .*custom ops p_even_ops: default unknown$/.test(l)));
      assert.ok(params.some((l) => /p_unsafe .*default: 7 {2}unsafe$/.test(l)));
      assert.match(params[20], /^ {2}p_hidden +int +perm 0000 {2}default: 99$/);
    });
  }
}

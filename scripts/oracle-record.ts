// oracle-record: boots the real Debian kernels in qemu on every batch of the conformance matrix
// (test/conformance/matrix.ts) and writes what they answered to
// test/conformance/matrix/<release>.json. `npm run oracle:record` runs scripts/oracle-setup.sh
// first. Not part of `npm test`, which only replays these files.
//
//   node --import tsx scripts/oracle-record.ts [6.1|6.12 ...] [--batch NAME ...]
//
// With --batch only those batches are booted again and the others are kept from the file.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { errnoName } from '../server/src/load/errno.js';
import { bootBatch, type BootResult } from '../test/oracle/qemu.js';
import {
  batchInputs, buildMatrix, casesText, type Batch, type MatrixCase, type Series,
} from '../test/conformance/matrix.js';
import { CACHE, ROOT } from '../test/conformance/oracle-cases.js';
import {
  inputSha256, type RecordedBatch, type RecordedCase, type RecordedKernel,
} from '../test/conformance/record.js';

const OUT = path.join(__dirname, '../test/conformance/matrix');
const tools = { dir: path.join(CACHE, 'oracle'), root: ROOT };

// /dev/kmsg writes non-printable bytes as \xHH; the record holds the bytes themselves.
function kmsgText(s: string): string {
  return s.replace(/\\x([0-9a-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

function imagePackage(release: string): { package: string; version: string } {
  const stamp = fs.readdirSync(path.join(CACHE, 'stamps'))
    .find((f) => f.startsWith(`linux-image-${release}-unsigned_`));
  if (!stamp) throw new Error(`no linux-image package for ${release} in ${CACHE}/stamps`);
  const [pkg, version] = stamp.split('_');
  return { package: pkg, version };
}

function toRecord(c: MatrixCase, boot: BootResult, bootArgs: string, inputsDir: string):
  RecordedCase {
  const got = boot.cases.find((g) => g.id === c.id);
  const base = {
    id: c.id, ko: c.ko,
    ...(c.ko !== '-' ? { ko_sha256: inputSha256(path.join(inputsDir, c.ko)) } : {}),
    flags: c.flags ?? '0', params: c.params ?? '', options: c.options ?? '',
    boot_args: bootArgs,
    ...(c.ownOutput ? { own_output: c.ownOutput } : {}),
    ...(c.undecidable ? { undecidable: c.undecidable } : {}),
    ...(c.addressValues ? { address_values: true } : {}),
  };
  if (!got) {
    return { ...base, stage: 'no-result', call: '', rc: -1, errno: 0, errno_name: '', kmsg: [],
      taint_before: 0, taint_after: 0, loaded: [] };
  }
  return {
    ...base, stage: 'syscall', call: got.call, rc: got.rc, errno: got.errno,
    errno_name: got.errno ? errnoName(got.errno) : '',
    kmsg: got.kmsg.map((l) => ({ level: l.level, text: kmsgText(l.text) })),
    taint_before: got.taint_before, taint_after: got.taint_after, loaded: got.loaded,
    // Lines that arrived after the previous case had been read (late output of its module).
    ...(got.stray_before ? { stray_lines_before: got.stray_before } : {}),
  };
}

// The lines of a console tail that say what killed the guest.
function crashSummary(tail: string): string {
  const keep = tail.split('\n').map((l) => l.replace(/^\[\s*[\d.]+\]\s*/, '').trim())
    .filter((l) => /^(BUG:|Oops:|RIP: 0010:|Kernel panic|general protection)/.test(l));
  return keep.length ? [...new Set(keep)].join('; ') : 'the guest stopped without a result';
}

// One batch may take several boots: when the guest dies on a case (a kernel oops), that case is
// recorded as such and the cases after it run in a fresh boot, recorded as a boot of their own.
async function recordBatch(release: string, batch: Batch, inputsDir: string):
  Promise<RecordedBatch[]> {
  const out: RecordedBatch[] = [];
  let todo = batch.cases;
  for (let part = 1; todo.length; part++) {
    const name = part === 1 ? batch.name : `${batch.name}#${part}`;
    const sub: Batch = { ...batch, name, cases: todo };
    const work = path.join(os.tmpdir(), `kmodsim-oracle-${release}-${name}`);
    const boot = await bootBatch(tools, { release, bootArgs: sub.bootArgs,
      casesText: casesText(sub), inputsDir, inputs: batchInputs(sub), workDir: work });
    fs.rmSync(work, { recursive: true, force: true });
    let cases = todo.map((c) => toRecord(c, boot, sub.bootArgs, inputsDir));
    todo = [];
    const dead = cases.findIndex((c) => c.stage === 'no-result');
    if (dead >= 0) {
      const why = crashSummary(boot.consoleTail ?? '');
      cases[dead] = { ...cases[dead], stage: 'crashed', crash: why,
        undecidable: `the real kernel did not return: ${why}` };
      todo = sub.cases.slice(dead + 1);
      cases = cases.slice(0, dead + 1);
      process.stderr.write(`[oracle] ${release} ${name}: ${cases[dead].id}: ${why}\n`);
    }
    process.stderr.write(`[oracle] ${release} ${name}: ${cases.length} cases, ` +
      `${boot.wallS.toFixed(1)} s (${boot.accel})\n`);
    out.push({ name, boot_args: sub.bootArgs, comm: 'loader', wall_s: boot.wallS,
      accel: boot.accel, guest: boot.guest ?? null, complete: dead < 0 && !!boot.end, cases });
  }
  return out;
}

async function recordSeries(series: Series, only: string[]) {
  const inputs = path.join(os.tmpdir(), `kmodsim-oracle-inputs-${series}`);
  const m = buildMatrix(series, inputs);
  const file = path.join(OUT, `${m.release}.json`);
  const previous = fs.existsSync(file)
    ? JSON.parse(fs.readFileSync(file, 'utf8')) as RecordedKernel : undefined;
  const started = Date.now();
  const batches: RecordedBatch[] = [];
  for (const b of m.batches) {
    const kept = previous?.batches.filter((p) => p.name.split('#')[0] === b.name) ?? [];
    if (only.length && !only.includes(b.name) && kept.length) batches.push(...kept);
    else batches.push(...await recordBatch(m.release, b, inputs));
  }
  const pkg = imagePackage(m.release);
  const doc: RecordedKernel = {
    recorder: 'kmodsim-oracle/1',
    kernel: { release: m.release, package: pkg.package, package_version: pkg.version },
    boot: 'pvh: the ELF vmlinux from the package\'s vmlinuz, 1 vCPU, 1 GiB',
    recorded_at: new Date().toISOString().slice(0, 10),
    // The boots' own wall time, so a partial re-record (--batch) keeps the figure whole.
    wall_s: Math.round(batches.reduce((t, b) => t + b.wall_s, 0) * 10) / 10,
    boots: batches.length,
    cases: batches.reduce((n, b) => n + b.cases.length, 0),
    batches,
  };
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(doc, null, 1)}\n`);
  process.stderr.write(`[oracle] ${m.release}: ${doc.cases} cases in ${doc.boots} boots, ` +
    `${doc.wall_s} s in qemu, ${((Date.now() - started) / 1000).toFixed(1)} s this run -> ` +
    `${path.relative(process.cwd(), file)}\n`);
  fs.rmSync(inputs, { recursive: true, force: true });
}

async function main(argv: string[]) {
  const series: Series[] = [];
  const only: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--batch') only.push(argv[++i]);
    else if (argv[i] === '6.1' || argv[i] === '6.12') series.push(argv[i] as Series);
    else throw new Error(`unknown argument: ${argv[i]}`);
  }
  for (const s of series.length ? series : (['6.1', '6.12'] as Series[])) {
    await recordSeries(s, only);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`oracle-record: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});

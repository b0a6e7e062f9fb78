// Differential test of the x86_64 relocation engine against GNU ld: each module is loaded on
// the 6.1 profile, then linked by ld at the engine's section addresses with the engine's
// symbol values; every section the engine relocated must come out byte for byte as ld's.
// Needs `bash scripts/setup.sh` (the Debian tree and the project's test modules) and binutils.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { applyRelocateAdd } from '../../server/src/arch/x86_64';
import { ElfFile } from '../../server/src/elf/index';
import { MODULE_ADDRESS_HIGH } from '../../server/src/load/layout';
import { captureProfile, readModuleFile } from '../../server/src/kernel/capture';
import type { KernelProfile } from '../../server/src/kernel/profile';
import { SimulatedKernel, type SyscallResult } from '../../server/src/load/kernel';
import { readModuleSignature } from '../../server/src/module/signature';
import { compareImages, ldLink, type EngineView } from '../support/ld';

const RELEASE = '6.1.0-57-amd64';
const CACHE = process.env.KMODSIM_CACHE ?? path.join(os.homedir(), '.cache', 'kmodsim');
const HEADERS = path.join(CACHE, 'root/usr/src', `linux-headers-${RELEASE}`);
const MODULES = path.join(CACHE, 'root/lib/modules', RELEASE);
const BUILD = path.join(__dirname, '..', 'modules', 'build', RELEASE);

const haveLd = spawnSync('ld', ['--version']).status === 0;
const skip = !haveLd ? 'GNU ld is not installed'
  : !fs.existsSync(HEADERS) || !fs.existsSync(path.join(BUILD, 'kmsim_relocs_ok.ko'))
    ? 'run scripts/setup.sh first' : false;

let profile: KernelProfile | undefined;
function getProfile(): KernelProfile {
  profile ??= captureProfile(HEADERS, { modulesDir: MODULES });
  return profile;
}

let byName: Map<string, string> | undefined;
function treeModule(name: string): string {
  if (!byName) {
    byName = new Map();
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.ko')) byName!.set(e.name.slice(0, -3).replace(/-/g, '_'), p);
      }
    };
    walk(path.join(MODULES, 'kernel'));
  }
  const file = byName.get(name.replace(/-/g, '_'));
  if (!file) throw new Error(`${name} is not in ${MODULES}`);
  return file;
}

function dependsOf(bytes: Uint8Array): string[] {
  const elf = ElfFile.open(bytes);
  const s = elf.section('.modinfo');
  if (!s) return [];
  const entry = Buffer.from(elf.sectionData(s)).toString('latin1').split('\0')
    .find((e) => e.startsWith('depends='));
  return entry ? entry.slice('depends='.length).split(',').filter(Boolean) : [];
}

// Loads a module's dependencies first, depth first, the way modprobe orders them.
function loadDependencies(kernel: SimulatedKernel, bytes: Uint8Array) {
  for (const dep of dependsOf(bytes)) {
    if (kernel.state.find(dep)) continue;
    const depBytes = readModuleFile(treeModule(dep));
    loadDependencies(kernel, depBytes);
    const r = kernel.finitModule(depBytes, '', 0);
    assert.equal(r.ret, 0, `dependency ${dep}: ${r.lines.map((l) => l.text).join('\n')}`);
  }
}

function elfOnly(bytes: Uint8Array): Uint8Array {
  const sig = readModuleSignature(bytes);
  return sig.present ? bytes.subarray(0, sig.elfLength) : bytes;
}

interface Loaded {
  file: string;
  bytes: Uint8Array;
  result: SyscallResult;
  view: EngineView;
  images: Map<number, Uint8Array>;
}

function simulate(file: string): Loaded {
  const bytes = readModuleFile(file);
  const kernel = SimulatedKernel.boot(getProfile());
  loadDependencies(kernel, bytes);
  const result = kernel.finitModule(bytes, '', 0, { keepImages: true });
  const o = result.outcome;
  assert.ok(o?.layout && o.symbolValues && o.images, `${file}: the load stopped before ` +
    `relocation: ${result.lines.map((l) => l.text).join('\n')}`);
  return { file, bytes: elfOnly(bytes), result, images: o.images,
    view: { addressLow: o.layout.addressLow, placed: o.layout.placed, values: o.symbolValues } };
}

function relocationCount(bytes: Uint8Array, placed: Uint8Array): number {
  const elf = ElfFile.open(bytes);
  let n = 0;
  for (const r of elf.relocationSections()) if (placed[r.target]) n += r.count;
  return n;
}

function changedBytes(bytes: Uint8Array, images: Map<number, Uint8Array>): number {
  const elf = ElfFile.open(bytes);
  let n = 0;
  for (const [index, image] of images) {
    const raw = elf.sectionData(elf.sections[index]);
    for (let i = 0; i < image.length; i++) if (image[i] !== (raw[i] ?? 0)) n++;
  }
  return n;
}

// Every placed relocation the engine refuses as an overflow when applied on its own, as
// "section:offset". The kernel stops at the first; ld reports them all.
function engineOverflows(m: Loaded): Set<string> {
  const elf = ElfFile.open(m.bytes);
  const out = new Set<string>();
  for (const r of elf.relocationSections()) {
    if (!m.view.placed[r.target]) continue;
    const image = new Uint8Array(elf.sections[r.target].size);
    for (let i = 0; i < r.count; i++) {
      image.fill(0);
      const o = applyRelocateAdd({ data: elf.view.data, start: r.entryOffset(i), count: 1,
        symbolLow: m.view.values.low, symbolHigh: m.view.values.high, moduleName: 'm',
        series: '6.1' }, { image, addressLow: m.view.addressLow[r.target],
        addressHigh: MODULE_ADDRESS_HIGH });
      if (o.lines.some((l) => /overflow in relocation/.test(l.text))) {
        const offset = Number(elf.view.data.getBigUint64(r.entryOffset(i), true));
        out.add(`${r.target}:${offset}`);
      }
    }
  }
  return out;
}

function differential(file: string) {
  const t0 = performance.now();
  const m = simulate(file);
  const t1 = performance.now();
  assert.equal(m.result.ret, 0, m.result.lines.map((l) => l.text).join('\n'));
  const ld = ldLink(m.bytes, m.view);
  const t2 = performance.now();
  assert.deepEqual(ld.truncated, [], `ld reports overflows the engine does not:\n${ld.stderr}`);
  const bad = compareImages(file, ElfFile.open(m.bytes), ld.output, m.view, m.images);
  const t3 = performance.now();
  assert.deepEqual(bad, [], bad.map((b) => `${b.name} (${b.section}): ${b.problem}`).join('\n'));
  const relocs = relocationCount(m.bytes, m.view.placed);
  assert.equal(m.result.relocationsApplied, relocs);
  // Guards against a vacuous pass where neither side relocated anything.
  const changed = changedBytes(m.bytes, m.images);
  assert.ok(changed > 0);
  console.log(`ld differential: ${path.basename(file)}: ${m.images.size} sections, ${relocs} ` +
    `relocations, all equal; ${changed} bytes changed by relocation ` +
    `(engine ${(t1 - t0).toFixed(0)} ms, ld ${(t2 - t1).toFixed(0)} ms, ` +
    `compare ${(t3 - t2).toFixed(0)} ms)`);
}

const tree = (rel: string) => path.join(MODULES, 'kernel', rel);
const cases: [string, () => string][] = [
  ['kmsim_relocs_ok.ko (every handled type, local and undefined targets)',
    () => path.join(BUILD, 'kmsim_relocs_ok.ko')],
  ['nls_utf8.ko', () => tree('fs/nls/nls_utf8.ko')],
  ['fat.ko', () => tree('fs/fat/fat.ko')],
  // Its fat symbols come from the simulated load of fat.ko, not from vmlinux.
  ['vfat.ko (after fat.ko)', () => tree('fs/fat/vfat.ko')],
  ['ext4.ko (after jbd2, mbcache, crc16)', () => tree('fs/ext4/ext4.ko')],
  ['btrfs.ko (after its four dependencies)', () => tree('fs/btrfs/btrfs.ko')],
];

for (const [name, file] of cases) {
  test(`relocations equal GNU ld's: ${name}`, { skip }, () => differential(file()));
}

test('the comparison notices one corrupted byte', { skip }, () => {
  const file = path.join(BUILD, 'kmsim_relocs_ok.ko');
  const m = simulate(file);
  const ld = ldLink(m.bytes, m.view);
  const input = ElfFile.open(m.bytes);
  const rela = input.relocationSections().find((r) => m.images.has(r.target) && r.count > 0);
  assert.ok(rela);
  // Corrupt the last byte a relocation wrote, so the report must name that relocation.
  const entry = rela.entryOffset(0);
  const view = new DataView(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
  const at = Number(view.getBigUint64(entry, true)) + 3;
  const images = new Map(m.images);
  const copy = new Uint8Array(images.get(rela.target)!);
  copy[at] ^= 0x40;
  images.set(rela.target, copy);
  const bad = compareImages(file, input, ld.output, m.view, images);
  assert.equal(bad.length, 1);
  assert.equal(bad[0].section, rela.target);
  assert.match(bad[0].problem, new RegExp(`offset 0x${at.toString(16)} .*R_X86_64_`));
  assert.deepEqual(compareImages(file, input, ld.output, m.view, m.images), []);
});

test('an R_X86_64_32 against a kernel address: the engine and ld both overflow', { skip },
  () => {
    const file = path.join(BUILD, 'kmsim_relocs.ko');
    const m = simulate(file);
    assert.equal(m.result.ret, -1);
    assert.ok(m.result.lines.some((l) => /overflow in relocation type 10 /.test(l.text)),
      m.result.lines.map((l) => l.text).join('\n'));
    const failed = m.result.steps.find((s) => s.step === 'apply_relocations');
    assert.ok(failed?.where?.section && failed.where.offset !== undefined);
    const input = ElfFile.open(m.bytes);
    const rela = input.section(failed.where.section)!;
    const view = new DataView(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
    const offset = Number(view.getBigUint64(failed.where.offset, true));
    assert.equal(view.getUint32(failed.where.offset + 8, true), 10);

    const ld = ldLink(m.bytes, m.view);
    assert.ok(ld.truncated.some((t) => t.section === rela.info && t.offset === offset
      && t.type === 'R_X86_64_32'), `ld did not flag ${rela.name}+0x${offset.toString(16)}:\n` +
      ld.stderr);
    // The kernel range-checks only the absolute 32-bit types; ld must agree nothing else
    // overflows here, and the engine must refuse exactly the entries ld truncates.
    for (const t of ld.truncated) assert.match(t.type, /^R_X86_64_32S?$/, ld.stderr);
    const engine = [...engineOverflows(m)].sort();
    assert.deepEqual(engine, ld.truncated.map((t) => `${t.section}:${t.offset}`).sort());
    const target = input.sections[rela.info].name;
    console.log(`ld differential: kmsim_relocs.ko: both overflow at ${target}+0x` +
      `${offset.toString(16)}; ld truncates ${ld.truncated.length} entries, the engine ` +
      `refuses the same ${engine.length} when each is applied alone`);
  });

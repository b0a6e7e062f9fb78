// The conformance case matrix: every input is made here, deterministically, from the fetched
// Debian modules and the project's own test modules (scripts/ko-mutate.ts for every edit), and
// grouped into batches, one boot each. `npm run oracle:record` boots the real kernel on these
// batches; test/conformance/matrix.test.ts rebuilds the same inputs and replays the records.
// A case is named after what it shows.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ElfFile } from '../../server/src/elf/index.js';
import { mutate, type Mutation } from '../../scripts/ko-mutate.js';
import { modulesDirOf, REL61, REL612, ROOT } from './oracle-cases.js';

export type Series = '6.1' | '6.12';

export interface MatrixCase {
  id: string;
  // Relative to the inputs folder, or `-` with an rmmod= option.
  ko: string;
  flags?: string;
  // As written in a cases file (escapes \t \n \\ \xHH).
  params?: string;
  options?: string;
  // Lines that a module's own init() prints: they come from its code, not from the loader.
  ownOutput?: string[];
  // Set when a static simulation cannot know the answer; such a case never counts as agreement.
  undecidable?: string;
  // The relocation messages' `val` is computed from module or kernel addresses, which only
  // the real allocator knows: it is not compared.
  addressValues?: boolean;
}

export interface Batch {
  name: string;
  bootArgs: string;
  cases: MatrixCase[];
}

export interface Matrix {
  series: Series;
  release: string;
  inputsDir: string;
  batches: Batch[];
}

const REPO = path.resolve(__dirname, '../..');
const KEYS = path.join(__dirname, 'keys');
const FOREIGN_KEY = path.join(KEYS, 'foreign-key.pem');
const FOREIGN_CERT = path.join(KEYS, 'foreign-cert.pem');

export const releaseOf = (s: Series) => (s === '6.1' ? REL61 : REL612);
const other = (s: Series): Series => (s === '6.1' ? '6.12' : '6.1');

export function ownModulePath(release: string, name: string): string {
  return path.join(REPO, 'test/modules/build', release, `${name}.ko`);
}

const read = (file: string) => new Uint8Array(fs.readFileSync(file));
const strip: Mutation = { op: 'strip-sig' };

// What an init() of the project's own modules prints (test/modules/src).
const OWN = {
  params: ['^kmsim_params: (byte|long|charp|ints)='],
  exports: ['^kmsim_exports: ready$'],
  user: ['^kmsim_user: -?\\d+$'],
  weak: ['^kmsim_weak: weak symbol '],
  relocs: ['^kmsim_relocs(_ok)?: table of \\d+ bytes$'],
};

class Inputs {
  private readonly made = new Set<string>();
  constructor(readonly dir: string) {
    fs.mkdirSync(path.join(dir, 'ko'), { recursive: true });
  }

  put(name: string, bytes: Uint8Array): string {
    if (this.made.has(name)) throw new Error(`input ${name} made twice`);
    this.made.add(name);
    fs.writeFileSync(path.join(this.dir, 'ko', name), bytes);
    return `ko/${name}`;
  }

  mut(name: string, from: Uint8Array, edits: Mutation[]): string {
    return this.put(name, mutate(from, edits));
  }

  pipe(name: string, tool: string, args: string[], input: Uint8Array): string {
    return this.put(name, new Uint8Array(execFileSync(tool, args, { input,
      maxBuffer: 1 << 28 })));
  }
}

// A Debian module of a release, uncompressed (6.12 ships .ko.xz).
function debianModule(series: Series, rel: string): Uint8Array {
  const base = path.join(modulesDirOf(releaseOf(series)), 'kernel', rel);
  if (fs.existsSync(`${base}.ko`)) return read(`${base}.ko`);
  return new Uint8Array(execFileSync('xz', ['-dc', `${base}.ko.xz`], { maxBuffer: 1 << 28 }));
}

function debianFile(series: Series, rel: string): Uint8Array {
  const base = path.join(modulesDirOf(releaseOf(series)), 'kernel', rel);
  return read(fs.existsSync(`${base}.ko`) ? `${base}.ko` : `${base}.ko.xz`);
}

function symversCrc(headers: string, symbol: string): number {
  const text = fs.readFileSync(path.join(ROOT, 'usr/src', headers, 'Module.symvers'), 'utf8');
  const line = text.split('\n').find((l) => l.split('\t')[1] === symbol);
  if (!line) throw new Error(`${headers}/Module.symvers has no ${symbol}`);
  return Number(line.split('\t')[0]);
}

function sectionHeader(bytes: Uint8Array, name: string): number {
  const s = ElfFile.open(bytes).section(name);
  if (!s) throw new Error(`no section ${name}`);
  return s.headerOffset;
}

// The index of the first RELA entry of a type in a section.
function relaIndex(bytes: Uint8Array, section: string, type: number, nth = 0): number {
  const elf = ElfFile.open(bytes);
  const rs = elf.relocationSections().find((r) => r.section.name === section);
  if (!rs) throw new Error(`no ${section}`);
  let seen = 0;
  for (let i = 0; i < rs.count; i++) {
    if (rs.type(i) === type && seen++ === nth) return i;
  }
  throw new Error(`${section} has no relocation of type ${type}`);
}

function fileSymbol(bytes: Uint8Array): number {
  const syms = ElfFile.open(bytes).symbols;
  for (let i = 1; syms && i < syms.count; i++) if (syms.type(i) === 4) return i;
  throw new Error('no STT_FILE symbol');
}

const field = (offset: number, width: number, value: number | bigint): Mutation =>
  ({ op: 'set-field', offset, width, value: BigInt(value) });

const FLAG_SETS: [string, string][] = [
  ['noflag', '0'], ['ignore-vermagic', 'IGNORE_VERMAGIC'],
  ['ignore-modversions', 'IGNORE_MODVERSIONS'],
  ['ignore-both', 'IGNORE_VERMAGIC|IGNORE_MODVERSIONS'],
];

function vermagicBatch(s: Series, inp: Inputs): Batch {
  const rel = releaseOf(s);
  const u = debianModule(s, 'fs/nls/nls_utf8');
  const words = 'SMP preempt mod_unload modversions ';
  const otherRelease = s === '6.1' ? '6.1.0-99-amd64' : '6.12.99+deb12-amd64';
  const variants: [string, Mutation][] = [
    ['other-release', { op: 'set-vermagic', value: `${otherRelease} ${words}` }],
    ['no-preempt', { op: 'set-vermagic', value: `${rel} SMP mod_unload modversions ` }],
    ['compiler-token', { op: 'set-vermagic', value: `${rel} SMP preempt gcc-12 modversions ` }],
    ['retpoline-token', { op: 'set-vermagic', value: `${rel} SMP preempt mod_unload retpoline ` }],
    ['missing', { op: 'del-modinfo', key: 'vermagic' }],
  ];
  const cases: MatrixCase[] = [];
  for (const [what, edit] of variants) {
    for (const versions of [true, false]) {
      const edits: Mutation[] = [strip, edit];
      if (!versions) {
        edits.push({ op: 'set-section-name', section: '__versions', name: '_versions' });
      }
      const tag = `vermagic-${what}-${versions ? 'with' : 'without'}-versions`;
      const ko = inp.mut(`${tag}.ko`, u, edits);
      for (const [fname, flags] of FLAG_SETS) cases.push({ id: `${tag}-${fname}`, ko, flags });
    }
  }
  const noRetpoline = inp.mut('modinfo-no-retpoline.ko', u,
    [strip, { op: 'del-modinfo', key: 'retpoline' }]);
  cases.push({ id: 'modinfo-retpoline-missing', ko: noRetpoline });
  cases.push({ id: 'modinfo-retpoline-missing-again', ko: noRetpoline });
  return { name: 'vermagic', bootArgs: '', cases };
}

function modversionsBatch(s: Series, inp: Inputs): Batch {
  const u = debianModule(s, 'fs/nls/nls_utf8');
  const bic = debianModule(s, 'net/ipv4/tcp_bic');
  const cases: MatrixCase[] = [];
  const both = (id: string, ko: string) => {
    cases.push({ id, ko }, { id: `${id}-ignore-modversions`, ko, flags: 'IGNORE_MODVERSIONS' });
  };
  both('modversions-module_layout-crc-changed',
    inp.mut('crc-layout.ko', u, [strip, { op: 'bump-crc', symbol: 'module_layout' }]));
  both('modversions-one-crc-changed',
    inp.mut('crc-one.ko', u, [strip, { op: 'bump-crc', symbol: '__register_nls' }]));
  both('modversions-three-crcs-changed', inp.mut('crc-three.ko', bic, [strip,
    { op: 'bump-crc', symbol: 'tcp_reno_undo_cwnd' },
    { op: 'bump-crc', symbol: 'tcp_slow_start' },
    { op: 'bump-crc', symbol: 'tcp_cong_avoid_ai' }]));
  both('modversions-symbol-missing-from-versions',
    inp.mut('crc-missing.ko', u, [strip, { op: 'drop-version', symbol: '__register_nls' }]));
  both('modversions-versions-section-absent', inp.mut('no-versions.ko', u,
    [strip, { op: 'set-section-name', section: '__versions', name: '_versions' }]));
  cases.push({ id: 'modversions-crc-changed-signed-module',
    ko: inp.mut('crc-one-signed.ko', u, [{ op: 'bump-crc', symbol: '__register_nls' }]) });
  cases.push({ id: 'modversions-crc-changed-signed-ignore-modversions',
    ko: 'ko/crc-one-signed.ko', flags: 'IGNORE_MODVERSIONS' });

  // Public reports.
  if (s === '6.1') {
    const old = 'linux-headers-6.1.0-47-amd64';
    cases.push({ id: 'report-module-built-for-other-6.1-abi', ko: inp.mut('abi-47.ko', u, [strip,
      { op: 'set-vermagic', value: '6.1.0-47-amd64 SMP preempt mod_unload modversions ' },
      { op: 'set-crc', symbol: 'module_layout', crc: symversCrc(old, 'module_layout') }]) });
  } else {
    cases.push({ id: 'report-module-built-for-other-6.12-abi', ko: inp.mut('abi-other.ko', u,
      [strip, { op: 'set-vermagic', value: '6.12.99+deb12-amd64 SMP preempt mod_unload ' +
        'modversions ' }, { op: 'bump-crc', symbol: 'module_layout' }]) });
  }
  cases.push({ id: 'report-one-imported-function-crc-disagrees', ko: 'ko/crc-one.ko' });
  cases.push({ id: 'report-three-imported-function-crcs-disagree', ko: 'ko/crc-three.ko' });
  cases.push({ id: 'report-incomplete-module-symvers-no-crc-entry', ko: 'ko/crc-missing.ko' });
  return { name: 'modversions', bootArgs: '', cases };
}

function symbolsBatch(s: Series, inp: Inputs): Batch {
  const rel = releaseOf(s);
  const own = (n: string) => read(ownModulePath(rel, n));
  const user = inp.put('kmsim_user.ko', own('kmsim_user'));
  const exportsKo = inp.put('kmsim_exports.ko', own('kmsim_exports'));
  const nons = inp.put('kmsim_user_nons.ko', own('kmsim_user_nons'));
  const weak = inp.put('kmsim_weak.ko', own('kmsim_weak'));
  const userMit = inp.mut('kmsim_user-mit.ko', own('kmsim_user'),
    [{ op: 'set-modinfo', key: 'license', value: 'MIT' }]);
  const bic = debianModule(s, 'net/ipv4/tcp_bic');
  const bicMit = inp.mut('tcp_bic-mit.ko', bic,
    [strip, { op: 'set-modinfo', key: 'license', value: 'MIT' }]);
  const stack = inp.mut('tcp_bic-stack-chk-guard.ko', bic, [strip,
    { op: 'rename-symbol', from: 'tcp_reno_undo_cwnd', to: '__stack_chk_guard' }]);
  const virtioDmaBuf = debianModule(s, 'drivers/virtio/virtio_dma_buf');
  // virtio_dma_buf imports one DMA_BUF symbol; renamed (with its __versions entry and the
  // kernel's CRC) it uses dma_buf_put instead, with and without the namespace import.
  const usesDmaBufPut: Mutation[] = [strip,
    { op: 'rename-symbol', from: 'dma_buf_export', to: 'dma_buf_put' },
    { op: 'rename-version', from: 'dma_buf_export', to: 'dma_buf_put' },
    { op: 'set-crc', symbol: 'dma_buf_put',
      crc: symversCrc(`linux-headers-${rel}`, 'dma_buf_put') }];
  const dmaBuf = inp.mut('dma-buf-put-no-import.ko', virtioDmaBuf,
    [...usesDmaBufPut, { op: 'del-modinfo', key: 'import_ns' }]);
  const dmaBufImport = inp.mut('dma-buf-put-import.ko', virtioDmaBuf, usesDmaBufPut);
  const vfat = inp.mut('vfat-unsigned.ko', debianModule(s, 'fs/fat/vfat'), [strip]);
  return { name: 'symbols', bootArgs: '', cases: [
    { id: 'symbol-from-module-not-loaded', ko: user },
    { id: 'symbol-provider-loaded-first', ko: exportsKo, options: 'keep', ownOutput: OWN.exports },
    { id: 'symbol-from-module-loaded-first', ko: user, ownOutput: OWN.user },
    { id: 'symbol-namespace-not-imported', ko: nons },
    { id: 'symbol-gpl-only-from-non-gpl-module', ko: userMit },
    { id: 'symbol-weak-undefined', ko: weak, ownOutput: OWN.weak },
    { id: 'symbol-provider-unloaded', ko: '-', options: 'rmmod=kmsim_exports' },
    { id: 'symbol-from-module-unloaded-again', ko: user },
    { id: 'symbol-gpl-only-kernel-symbols-from-mit-module', ko: bicMit },
    { id: 'report-symbol-target-does-not-export-stack-chk-guard', ko: stack },
    { id: 'report-dma_buf_put-without-importing-DMA_BUF', ko: dmaBuf },
    { id: 'symbol-dma_buf_put-with-DMA_BUF-imported', ko: dmaBufImport },
    { id: 'symbol-unknown-many-dependencies-not-loaded', ko: vfat },
  ] };
}

function thisModuleBatch(s: Series, inp: Inputs): Batch {
  const o = other(s);
  const uo = debianModule(o, 'fs/nls/nls_utf8');
  const signed = inp.put(`nls_utf8-built-for-${o}.ko`, uo);
  const unsigned = inp.mut(`nls_utf8-built-for-${o}-unsigned.ko`, uo, [strip]);
  const params = inp.put(`kmsim_params-built-for-${o}.ko`,
    read(ownModulePath(releaseOf(o), 'kmsim_params')));
  return { name: 'this_module', bootArgs: '', cases: [
    { id: `report-module-built-for-${o}-signed-struct-module-size`, ko: signed },
    { id: `this_module-${o}-module-unsigned`, ko: unsigned },
    { id: `this_module-${o}-module-ignore-both`, ko: unsigned,
      flags: 'IGNORE_VERMAGIC|IGNORE_MODVERSIONS' },
    { id: `this_module-${o}-own-module`, ko: params },
    { id: `this_module-${o}-own-module-ignore-modversions`, ko: params,
      flags: 'IGNORE_MODVERSIONS' },
  ] };
}

const R_X86_64 = { NONE: 0, R64: 1, PC32: 2, GOTPCREL: 9, R32: 10, R32S: 11, PLT32: 4, PC64: 24 };

function relocationsBatch(s: Series, inp: Inputs): Batch {
  const rel = releaseOf(s);
  const ok = read(ownModulePath(rel, 'kmsim_relocs_ok'));
  const sec = '.rela.data.kmsim_relocs';
  const at = (type: number, nth = 0) => relaIndex(ok, sec, type, nth);
  const setType = (i: number, v: number): Mutation =>
    ({ op: 'set-rela', section: sec, index: i, field: 'type', value: BigInt(v) });
  const addend = (i: number, value: bigint): Mutation =>
    ({ op: 'set-rela', section: sec, index: i, field: 'addend', value });
  const own = (n: string) => read(ownModulePath(rel, n));
  // Loads: the module's init() prints its table size. Refused on an address: `val` varies.
  const loads = (id: string, ko: string): MatrixCase => ({ id, ko, ownOutput: OWN.relocs });
  const atAddress = (id: string, ko: string): MatrixCase => ({ id, ko, addressValues: true });
  const cases: MatrixCase[] = [
    loads('reloc-every-handled-type-loads', inp.put('kmsim_relocs_ok.ko', ok)),
    atAddress('reloc-R_X86_64_32-overflows', inp.put('kmsim_relocs.ko', own('kmsim_relocs'))),
    { id: 'report-reloc-type-9-GOTPCREL-wrong-code-model',
      ko: inp.put('kmsim_badreloc.ko', own('kmsim_badreloc')) },
    loads('reloc-R_X86_64_NONE-loads',
      inp.mut('reloc-none.ko', ok, [setType(at(R_X86_64.R64), R_X86_64.NONE)])),
    { id: 'reloc-unknown-type-42-REX_GOTPCRELX',
      ko: inp.mut('reloc-type-42.ko', ok, [setType(at(R_X86_64.PC32), 42)]) },
    { id: 'reloc-unknown-type-200',
      ko: inp.mut('reloc-type-200.ko', ok, [setType(at(R_X86_64.PC32), 200)]) },
    atAddress('reloc-R_X86_64_32-of-local-overflows',
      inp.mut('reloc-32-local.ko', ok, [setType(at(R_X86_64.R32S), R_X86_64.R32)])),
    // A module sits in the top 2 GiB, so S + A for an addend of +2 GiB wraps back into range
    // of a sign-extended 32-bit field; +4 GiB lands 3 GiB above 0, out of its reach.
    loads('reloc-R_X86_64_32S-addend-wraps-into-range',
      inp.mut('reloc-32s-wraps.ko', ok, [addend(at(R_X86_64.R32S), 0x80000000n)])),
    atAddress('report-reloc-R_X86_64_32S-cannot-reach-target',
      inp.mut('reloc-32s-far.ko', ok, [addend(at(R_X86_64.R32S), 0x100000000n)])),
    atAddress('reloc-R_X86_64_32S-negative-addend-overflows',
      inp.mut('reloc-32s-neg.ko', ok, [addend(at(R_X86_64.R32S, 1), -0x100000000n)])),
    loads('reloc-R_X86_64_PC32-large-addend-is-not-checked',
      inp.mut('reloc-pc32-far.ko', ok, [addend(at(R_X86_64.PC32), 0x7fff0000n)])),
  ];
  // Against the STT_FILE symbol (SHN_ABS, value 0) the value is the addend alone: the one way
  // a module's R_X86_64_32 can fit.
  const file = fileSymbol(ok);
  const first64 = at(R_X86_64.R64);
  const absolute = (name: string, type: number, value: bigint) => inp.mut(name, ok, [
    setType(first64, type), addend(first64, value),
    { op: 'set-rela', section: sec, index: first64, field: 'sym', value: BigInt(file) }]);
  cases.push(
    loads('reloc-R_X86_64_32-absolute-value-fits',
      absolute('reloc-32-abs.ko', R_X86_64.R32, 0x1234n)),
    { id: 'reloc-R_X86_64_32-absolute-value-above-4GiB',
      ko: absolute('reloc-32-abs-far.ko', R_X86_64.R32, 0x100000000n) },
    loads('reloc-R_X86_64_32S-absolute-negative-fits',
      absolute('reloc-32s-abs.ko', R_X86_64.R32S, -16n)),
    loads('reloc-R_X86_64_64-absolute-value',
      absolute('reloc-64-abs.ko', R_X86_64.R64, 0x123456789n)));
  for (const [name, type] of [['64', R_X86_64.R64], ['PC64', R_X86_64.PC64],
    ['PC32', R_X86_64.PC32], ['32S', R_X86_64.R32S], ['PLT32', R_X86_64.PLT32]] as const) {
    cases.push(atAddress(`reloc-R_X86_64_${name}-nonzero-target`, inp.mut(
      `reloc-${name}-nonzero.ko`, ok,
      [{ op: 'poke-rela-target', section: sec, index: at(type), value: 0x5a }])));
  }
  const u = debianModule(s, 'fs/nls/nls_utf8');
  cases.push(atAddress('report-reloc-R_X86_64_64-target-not-zero-mismatched-headers',
    inp.mut('nls_utf8-this_module-nonzero.ko', u, [strip, { op: 'poke-rela-target',
      section: '.rela.gnu.linkonce.this_module',
      index: relaIndex(u, '.rela.gnu.linkonce.this_module', R_X86_64.R64), value: 1 }])));
  return { name: 'relocations', bootArgs: '', cases };
}

// One input per validity check of elf_validity_check()/setup_load_info() (6.1) and of the
// elf_validity_cache_*() family (6.12); the same inputs go to both series.
function elfBatch(s: Series, inp: Inputs): Batch {
  const u = mutate(debianModule(s, 'fs/nls/nls_utf8'), [strip]);
  const elf = ElfFile.open(u);
  const shdr = (name: string) => sectionHeader(u, name);
  const shstr = elf.sections[elf.header.shstrndx];
  const symtab = elf.sections.find((x) => x.type === 2);
  if (!symtab) throw new Error('nls_utf8 has no symtab');
  const shnum = elf.header.shnum;
  const nonAlloc = elf.sections.find((x) => x.index > 0 && !(x.flags & 2) && x.type !== 8 &&
    x.index !== elf.header.shstrndx && x.type !== 2 && x.type !== 3);
  if (!nonAlloc) throw new Error('nls_utf8 has no non-alloc section to damage');
  const alloc = elf.section('.text');
  if (!alloc) throw new Error('nls_utf8 has no .text');
  const damage: [string, Mutation[]][] = [
    ['header-shorter-than-ehdr', [{ op: 'truncate', length: 40 }]],
    ['bad-magic', [{ op: 'set-byte', offset: 1, value: 0x45 + 1 }]],
    ['type-ET_EXEC', [field(16, 2, 2)]],
    ['type-ET_DYN', [field(16, 2, 3)]],
    ['machine-i386', [field(18, 2, 3)]],
    ['machine-aarch64', [field(18, 2, 183)]],
    ['class-elf32-not-checked', [{ op: 'set-byte', offset: 4, value: 1 }]],
    ['big-endian-not-checked', [{ op: 'set-byte', offset: 5, value: 2 }]],
    ['shentsize-40', [field(58, 2, 40)]],
    ['shoff-past-end', [field(40, 8, u.length)]],
    ['shnum-past-end', [field(60, 2, 0xffff)]],
    ['truncated-section-table', [{ op: 'truncate', length: u.length - 100 }]],
    ['shstrndx-zero', [field(62, 2, 0)]],
    ['shstrndx-too-large', [field(62, 2, shnum)]],
    ['shstrtab-offset-past-end', [field(shstr.headerOffset + 24, 8, u.length + 16)]],
    ['shstrtab-empty', [field(shstr.headerOffset + 32, 8, 0)]],
    ['shstrtab-not-nul-terminated', [{ op: 'set-byte',
      offset: shstr.offset + shstr.size - 1, value: 0x41 }]],
    ['shstrtab-type-progbits', [field(shstr.headerOffset + 4, 4, 1)]],
    ['section0-type-progbits', [field(elf.header.shoff + 4, 4, 1)]],
    ['section0-size-nonzero', [field(elf.header.shoff + 32, 8, 16)]],
    ['symtab-link-zero', [field(symtab.headerOffset + 40, 4, 0)]],
    ['symtab-link-too-large', [field(symtab.headerOffset + 40, 4, shnum + 3)]],
    ['symtab-link-not-strtab', [field(symtab.headerOffset + 40, 4, alloc.index)]],
    ['symtab-absent', [field(symtab.headerOffset + 4, 4, 1)]],
    ['section-contents-past-end', [field(alloc.headerOffset + 32, 8, u.length)]],
    ['section-offset-wraps', [field(alloc.headerOffset + 24, 8, 0xfffffffffffffff0n)]],
    ['alloc-section-name-out-of-range', [field(alloc.headerOffset, 4, shstr.size + 8)]],
    ['nonalloc-section-name-out-of-range', [field(nonAlloc.headerOffset, 4, shstr.size + 8)]],
    ['modinfo-absent', [{ op: 'set-section-name', section: '.modinfo', name: 'modinfo' }]],
    ['modinfo-twice', [{ op: 'set-section-name', section: nonAlloc.name, name: '.modinfo' }]],
    ['this_module-absent', [{ op: 'set-section-name', section: '.gnu.linkonce.this_module',
      name: 'gnu.linkonce.this_module' }]],
    ['this_module-nobits', [field(shdr('.gnu.linkonce.this_module') + 4, 4, 8)]],
    ['this_module-not-alloc', [field(shdr('.gnu.linkonce.this_module') + 8, 8, 1)]],
    ['this_module-size-one-byte-short', [field(shdr('.gnu.linkonce.this_module') + 32, 8,
      elf.section('.gnu.linkonce.this_module')!.size - 1)]],
  ];
  const cases: MatrixCase[] = [];
  for (const [what, edits] of damage) {
    cases.push({ id: `elf-${what}`, ko: inp.mut(`elf-${what}.ko`, u, edits) });
  }
  cases.push({ id: 'elf-empty-file', ko: inp.put('elf-empty.ko', new Uint8Array()) });
  cases.push({ id: 'elf-text-file', ko: inp.put('elf-text.ko',
    new TextEncoder().encode('this is not an ELF file\n')) });
  return { name: 'elf', bootArgs: '', cases };
}

function signatureInputs(s: Series, inp: Inputs) {
  const u = debianModule(s, 'fs/nls/nls_utf8');
  const unsigned = mutate(u, [strip]);
  const corrupt = new Uint8Array(u);
  // The last byte of the RSA signature: right before struct module_signature and the magic.
  corrupt[corrupt.length - 12 - 28 - 1] ^= 0x01;
  return {
    debian: inp.put('sig-debian.ko', u),
    none: inp.put('sig-none.ko', unsigned),
    foreign: inp.mut('sig-foreign-key.ko', unsigned,
      [{ op: 'sign', key: FOREIGN_KEY, cert: FOREIGN_CERT }]),
    corrupt: inp.put('sig-corrupted.ko', corrupt),
    truncated: inp.mut('sig-truncated.ko', u, [{ op: 'truncate', length: -1 }]),
  };
}

function signatureBatches(s: Series, inp: Inputs): Batch[] {
  const k = signatureInputs(s, inp);
  const mk = (name: string, bootArgs: string, which = Object.keys(k)): Batch => {
    const cases: MatrixCase[] = [];
    for (const [what, ko] of Object.entries(k).filter(([w]) => which.includes(w))) {
      cases.push({ id: `sig-${what}-${name}`, ko });
      cases.push({ id: `sig-${what}-${name}-ignore-vermagic`, ko, flags: 'IGNORE_VERMAGIC' });
      cases.push({ id: `sig-${what}-${name}-init_module`, ko, options: 'init' });
    }
    return { name: `signatures-${name}`, bootArgs, cases };
  };
  // Lockdown's line is printk-ratelimited (10 in 5 s) and the boot spends one on hibernation:
  // the lockdown cases take two boots so every refusal is printed.
  return [mk('default', ''), mk('sig_enforce', 'module.sig_enforce=1'),
    mk('lockdown', 'lockdown=integrity', ['debian', 'none', 'foreign']),
    mk('lockdown-2', 'lockdown=integrity', ['corrupt', 'truncated'])];
}

function compressionBatch(s: Series, inp: Inputs): Batch {
  const u = debianModule(s, 'fs/nls/nls_utf8');
  const unsigned = mutate(u, [strip]);
  const xzShipped = inp.put('nls_utf8-shipped.ko.xz', s === '6.12'
    ? debianFile(s, 'fs/nls/nls_utf8') : new Uint8Array(execFileSync('xz',
      ['--check=crc32', '--lzma2=dict=1MiB', '-c'], { input: u })));
  const crc32 = inp.pipe('unsigned-crc32.ko.xz', 'xz', ['--check=crc32', '--lzma2=dict=1MiB',
    '-c'], unsigned);
  const crc64 = inp.pipe('unsigned-crc64.ko.xz', 'xz', ['--check=crc64', '--lzma2=dict=1MiB',
    '-c'], unsigned);
  const gz = inp.pipe('unsigned.ko.gz', 'gzip', ['-n', '-9', '-c'], unsigned);
  const zst = inp.pipe('unsigned.ko.zst', 'zstd', ['-q', '-19', '-c'], unsigned);
  const plain = inp.put('plain.ko', u);
  const truncated = inp.put('truncated.ko.xz', fs.readFileSync(path.join(inp.dir, crc32))
    .subarray(0, 300));
  const F = 'COMPRESSED_FILE';
  return { name: 'compression', bootArgs: '', cases: [
    { id: 'compressed-xz-shipped-flag', ko: xzShipped, flags: F },
    { id: 'compressed-xz-shipped-no-flag', ko: xzShipped },
    { id: 'compressed-xz-init_module', ko: xzShipped, options: 'init' },
    { id: 'compressed-xz-crc32-flag', ko: crc32, flags: F },
    { id: 'compressed-xz-crc64-flag', ko: crc64, flags: F },
    { id: 'compressed-gz-flag', ko: gz, flags: F },
    { id: 'compressed-zst-flag', ko: zst, flags: F },
    { id: 'compressed-flag-on-plain-module', ko: plain, flags: F },
    { id: 'compressed-xz-truncated-flag', ko: truncated, flags: F },
    { id: 'compressed-xz-flag-ignore-vermagic', ko: crc32, flags: `${F}|IGNORE_VERMAGIC` },
    { id: 'flags-unknown-bit-8', ko: plain, flags: '8' },
  ] };
}

// kmsim_params: one parameter of every standard type (test/modules/src/kmsim_params.c).
function paramsBatch(s: Series, inp: Inputs): Batch {
  const ko = inp.put('kmsim_params.ko', read(ownModulePath(releaseOf(s), 'kmsim_params')));
  const p: [string, string][] = [
    ['defaults', ''],
    ['byte-valid', 'p_byte=200'], ['byte-invalid', 'p_byte=x'], ['byte-out-of-range', 'p_byte=256'],
    ['byte-negative', 'p_byte=-1'], ['byte-hex', 'p_byte=0x7f'],
    ['short-valid', 'p_short=-32768'], ['short-out-of-range', 'p_short=32768'],
    ['ushort-valid', 'p_ushort=65535'], ['ushort-out-of-range', 'p_ushort=65536'],
    ['ushort-negative', 'p_ushort=-1'],
    ['int-valid', 'p_int=-2147483648'], ['int-invalid', 'p_int=12abc'],
    ['int-out-of-range', 'p_int=2147483648'], ['int-octal', 'p_int=010'],
    ['int-empty', 'p_int='], ['int-no-value', 'p_int'],
    ['uint-valid', 'p_uint=4294967295'], ['uint-out-of-range', 'p_uint=4294967296'],
    ['uint-negative', 'p_uint=-1'],
    ['long-valid', 'p_long=-9223372036854775808'],
    ['long-out-of-range', 'p_long=9223372036854775808'],
    ['ulong-valid', 'p_ulong=18446744073709551615'],
    ['ulong-out-of-range', 'p_ulong=18446744073709551616'],
    ['ullong-valid', 'p_ullong=0xffffffffffffffff'], ['ullong-invalid', 'p_ullong=0xg'],
    ['hexint-valid', 'p_hexint=0x10'], ['hexint-decimal', 'p_hexint=16'],
    ['hexint-out-of-range', 'p_hexint=0x100000000'],
    ['charp-valid', 'p_charp=hello'], ['charp-quoted-with-spaces', 'p_charp="hello world"'],
    ['charp-empty', 'p_charp='], ['charp-no-value', 'p_charp'],
    ['bool-y', 'p_bool=y'], ['bool-N', 'p_bool=N'], ['bool-0', 'p_bool=0'],
    ['bool-on', 'p_bool=on'], ['bool-invalid', 'p_bool=maybe'], ['bool-no-value', 'p_bool'],
    ['invbool-y', 'p_invbool=y'], ['invbool-invalid', 'p_invbool=2'],
    ['invbool-no-value', 'p_invbool'],
    ['bint-1', 'p_bint=0'], ['bint-invalid', 'p_bint=2'], ['bint-no-value', 'p_bint'],
    ['string-valid', 'p_string=short'], ['string-seven-bytes', 'p_string=1234567'],
    ['string-too-long', 'p_string=12345678'], ['string-quoted-with-spaces', 'p_string="a b c"'],
    ['array-int-valid', 'p_ints=1,2,3'], ['array-int-too-many', 'p_ints=1,2,3,4,5'],
    ['array-int-invalid-element', 'p_ints=1,x,3'], ['array-int-empty-element', 'p_ints=1,,3'],
    ['array-charp-valid', 'p_names=a,b,c'], ['array-charp-too-many', 'p_names=a,b,c,d'],
    ['array-bool-valid', 'p_flags=n,y,n'], ['array-bool-invalid', 'p_flags=y,maybe'],
    ['array-ushort-out-of-range', 'p_ports=1,70000'], ['array-ushort-valid', 'p_ports=22'],
    ['unknown-parameter', 'nosuch=1'], ['dotted-name-foo.bar', 'foo.bar=1'],
    ['module-prefixed-name', 'kmsim_params.p_int=5'],
    ['after-dashes', 'p_int=5 -- p_byte=1'], ['dashes-only', '--'],
    ['dyndbg-plus-p', 'dyndbg=+p'], ['dyndbg-empty', 'dyndbg='],
    ['unsafe-parameter-taints', 'p_unsafe=8'], ['hidden-perm-0', 'p_hidden=5'],
    ['dash-in-name', 'p-int=7'], ['repeated-last-wins', 'p_int=1 p_int=2'],
    ['two-errors-last-errno', 'p_int=x p_uint=-1'], ['tab-separated', 'p_int=3\\tp_byte=4'],
    ['newline-separated', 'p_int=3\\np_byte=4'],
    ['quoted-whole-assignment', '"p_charp=a b"'], ['unterminated-quote', 'p_charp="abc'],
  ];
  const cases: MatrixCase[] = p.map(([what, params]) => ({ id: `param-${what}`, ko, params,
    ownOutput: OWN.params }));
  cases.push({ id: 'param-null-pointer', ko, options: 'params=null', ownOutput: OWN.params });
  const custom = 'p_even is set by the module\'s own kernel_param_ops (module_param_cb): its ' +
    'set() is module code that a static simulation does not run';
  cases.push({ id: 'param-custom-ops-rejects-odd', ko, params: 'p_even=3', undecidable: custom });
  cases.push({ id: 'param-custom-ops-accepts-even', ko, params: 'p_even=4',
    ownOutput: OWN.params, undecidable: custom });
  cases.push({ id: 'loaded-twice-first', ko, options: 'keep', ownOutput: OWN.params });
  cases.push({ id: 'loaded-twice-second', ko });
  cases.push({ id: 'loaded-twice-second-init_module', ko, options: 'init' });
  cases.push({ id: 'loaded-twice-unload', ko: '-', options: 'rmmod=kmsim_params' });
  return { name: 'params', bootArgs: '', cases };
}

// Public reports of parameter strings that went wrong, on the Debian modules they name or on
// one with a parameter of the same kind. Dependencies are loaded first and kept.
function reportParamsBatch(s: Series, inp: Inputs): Batch {
  const cases: MatrixCase[] = [];
  const dep = (rel: string, ownOutput: string[] = []) => {
    const name = path.basename(rel);
    const ko = inp.put(`${name}.ko`, debianModule(s, rel));
    cases.push({ id: `dependency-${name}`, ko, options: 'keep,settle=200', ownOutput });
    return ko;
  };
  const dmfe = inp.put('dmfe.ko', debianModule(s, 'drivers/net/ethernet/dec/tulip/dmfe'));
  cases.push({ id: 'report-param-inline-comment-mode=2-#-keep-quiet', ko: dmfe,
    params: 'mode=2 # keep quiet' });
  cases.push({ id: 'param-dmfe-mode-valid', ko: dmfe, params: 'mode=2' });

  dep('net/rfkill/rfkill');
  dep('net/wireless/cfg80211', ['^cfg80211: ', '^Loaded X\\.509 cert ', '^Loading compiled-in',
    '^faux_driver ', '^platform regulatory', '^firmware_class: See https://']);
  dep('lib/crypto/libarc4');
  dep('net/mac80211/mac80211');
  dep('drivers/net/wireless/realtek/rtlwifi/rtlwifi');
  dep('drivers/net/wireless/realtek/rtlwifi/rtl_pci');
  dep('drivers/net/wireless/realtek/rtlwifi/btcoexist/btcoexist');
  dep('drivers/net/wireless/realtek/rtlwifi/rtl8723com/rtl8723-common');
  const rtl = inp.put('rtl8723be.ko',
    debianModule(s, 'drivers/net/wireless/realtek/rtlwifi/rtl8723be/rtl8723be'));
  cases.push({ id: 'report-param-placeholder-ant_sel=X', ko: rtl, params: 'ant_sel=X' });
  cases.push({ id: 'param-ant_sel-valid', ko: rtl, params: 'ant_sel=1' });

  dep('net/sunrpc/sunrpc', ['^RPC: ']);
  dep('fs/nfs_common/grace');
  const lockd = inp.put('lockd.ko', debianModule(s, 'fs/lockd/lockd'));
  cases.push({ id: 'report-param-missing-equals-nlm_tcpport-60001', ko: lockd,
    params: 'nlm_tcpport 60001' });
  cases.push({ id: 'param-nlm_tcpport-with-equals', ko: lockd, params: 'nlm_tcpport=60001',
    undecidable: 'nlm_tcpport is set by lockd\'s own param_set_port(), module code' });

  dep('virt/lib/irqbypass');
  const kvm = inp.put('kvm.ko', debianModule(s, 'arch/x86/kvm/kvm'));
  cases.push({ id: 'report-param-renamed-upstream-lapic_timer_advance_ns', ko: kvm,
    params: 'lapic_timer_advance_ns=0' });
  const tcrypt = inp.put('tcrypt.ko', debianModule(s, 'crypto/tcrypt'));
  cases.push({ id: 'init-returns-error-tcrypt', ko: tcrypt, params: 'mode=0 sec=0',
    undecidable: 'tcrypt\'s init() returns -EAGAIN on purpose after its tests; the return ' +
      'value of init() is module code' });
  return { name: 'reports-params', bootArgs: '', cases };
}

// Findings of a new-user pass, each checked against the real kernel.

// printk keeps a bounded prefix of a long line: parameter errors whose text is 5,000 bytes, and
// lines whose whole text is just under, at and over the kernels' limits (992 and 1024 bytes).
function longLinesBatch(s: Series, inp: Inputs): Batch {
  const ko = inp.put('kmsim_params-long-lines.ko',
    read(ownModulePath(releaseOf(s), 'kmsim_params')));
  const dmfe = inp.put('dmfe-long-lines.ko',
    debianModule(s, 'drivers/net/ethernet/dec/tulip/dmfe'));
  const a = (n: number) => 'a'.repeat(n);
  const cases: MatrixCase[] = [
    { id: 'long-line-charp-5000-bytes', ko, params: `p_charp=${a(5000)}` },
    { id: 'long-line-string-5000-bytes', ko, params: `p_string=${a(5000)}` },
    { id: 'long-line-int-5000-bytes', ko, params: `p_int=${a(5000)}` },
    { id: 'long-line-unknown-name-5000-bytes', ko, params: `${a(5000)}=1`,
      ownOutput: OWN.params },
    { id: 'long-line-dmfe-mode-5000-bytes', ko: dmfe, params: `mode=${a(5000)}` },
  ];
  // "kmsim_params: `V' invalid for parameter `p_int'" is 46 bytes besides V.
  for (const total of [988, 989, 990, 991, 992, 993, 994, 1020, 1021, 1022, 1023, 1024, 1025]) {
    cases.push({ id: `long-line-int-text-${total}-bytes`, ko,
      params: `p_int=${a(total - 46)}` });
  }
  return { name: 'long-lines', bootArgs: '', cases };
}

// Relocations and a symbol table that the kernel reads without bounds checks. The cases most
// likely to oops come last (a crash ends the boot; the rest runs in a new one).
function relocationBoundsBatch(s: Series, inp: Inputs): Batch {
  const ok = read(ownModulePath(releaseOf(s), 'kmsim_relocs_ok'));
  const sec = '.rela.data.kmsim_relocs';
  const elf = ElfFile.open(ok);
  const rela = elf.section(sec);
  const symtab = elf.sections.find((x) => x.type === 2);
  if (!rela || !symtab) throw new Error(`kmsim_relocs_ok has no ${sec} or symtab`);
  const first = relaIndex(ok, sec, R_X86_64.R64);
  const entry = rela.offset + first * 24;
  const symbols = symtab.size / 24;
  const loads = (id: string, ko: string): MatrixCase => ({ id, ko, ownOutput: OWN.relocs });
  const cases: MatrixCase[] = [
    loads('symtab-size-8-bytes-over-entsize-multiple',
      inp.mut('symtab-size-plus-8.ko', ok, [field(symtab.headerOffset + 32, 8,
        symtab.size + 8)])),
    loads('symtab-entsize-16', inp.mut('symtab-entsize-16.ko', ok,
      [field(symtab.headerOffset + 56, 8, 16)])),
    { id: 'symtab-size-one-byte-short-of-entsize-multiple', ko: inp.mut('symtab-size-minus-1.ko',
      ok, [field(symtab.headerOffset + 32, 8, symtab.size - 1)]), ownOutput: OWN.relocs },
    { id: 'reloc-symbol-index-one-past-symtab', ko: inp.mut('reloc-sym-past.ko', ok,
      [field(entry + 12, 4, symbols)]), ownOutput: OWN.relocs, addressValues: true },
    { id: 'reloc-offset-at-section-end', ko: inp.mut('reloc-offset-end.ko', ok,
      [field(entry, 8, 0x38)]), ownOutput: OWN.relocs, addressValues: true },
    { id: 'reloc-offset-2GiB-past-section', ko: inp.mut('reloc-offset-far.ko', ok,
      [field(entry, 8, 0x7fffffff)]), ownOutput: OWN.relocs, addressValues: true },
    { id: 'reloc-symbol-index-far-past-symtab', ko: inp.mut('reloc-sym-far.ko', ok,
      [field(entry + 12, 4, 0xffffff)]), ownOutput: OWN.relocs, addressValues: true },
  ];
  return { name: 'relocation-bounds', bootArgs: '', cases };
}

// The project's module built for the other series, forced with both flags: 6.12 refuses it on
// the size of struct module, 6.1 has no such check and uses the other series' layout.
function thisModuleForcedBatch(s: Series, inp: Inputs): Batch {
  const o = other(s);
  const ko = inp.put(`kmsim_params-forced-from-${o}.ko`,
    read(ownModulePath(releaseOf(o), 'kmsim_params')));
  const both = 'IGNORE_VERMAGIC|IGNORE_MODVERSIONS';
  return { name: 'this_module-forced', bootArgs: '', cases: [
    { id: `this_module-${o}-own-module-bad-parameter-forced`, ko, flags: both,
      params: 'p_int=x' },
    { id: `this_module-${o}-own-module-forced`, ko, flags: both, options: 'keep',
      ownOutput: OWN.params },
    { id: `this_module-${o}-own-module-forced-unloaded`, ko: '-',
      options: 'rmmod=kmsim_params' },
  ] };
}

export function buildMatrix(series: Series, dir: string): Matrix {
  fs.rmSync(dir, { recursive: true, force: true });
  const inp = new Inputs(dir);
  const batches = [
    vermagicBatch(series, inp), modversionsBatch(series, inp), symbolsBatch(series, inp),
    thisModuleBatch(series, inp), relocationsBatch(series, inp), elfBatch(series, inp),
    ...signatureBatches(series, inp), compressionBatch(series, inp), paramsBatch(series, inp),
    reportParamsBatch(series, inp), longLinesBatch(series, inp),
    relocationBoundsBatch(series, inp), thisModuleForcedBatch(series, inp),
  ];
  const ids = new Set<string>();
  for (const c of batches.flatMap((b) => b.cases)) {
    if (ids.has(c.id)) throw new Error(`case id ${c.id} used twice`);
    ids.add(c.id);
  }
  return { series, release: releaseOf(series), inputsDir: dir, batches };
}

// A batch as a cases file (server/src/cli/cases.ts), the format both the guest loader and
// `kmodsim run` read.
export function casesText(batch: Batch): string {
  const lines = [`# ${batch.name}${batch.bootArgs ? ` (${batch.bootArgs})` : ''}`];
  for (const c of batch.cases) {
    lines.push([c.id, c.ko, c.flags ?? '0', c.params ?? '', c.options ?? ''].join('\t'));
  }
  return `${lines.join('\n')}\n`;
}

// The input files a batch uses, relative to the inputs folder.
export function batchInputs(batch: Batch): string[] {
  return [...new Set(batch.cases.map((c) => c.ko).filter((k) => k !== '-'))];
}

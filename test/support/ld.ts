// GNU ld as an oracle for the relocation engine: link a module at the addresses the engine
// chose, with the symbol values it resolved, and compare what ld writes with the engine's
// relocated section images.

import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ElfFile, SHF_ALLOC, SHN_UNDEF, SHT_NULL, SHT_REL, SHT_RELA, SHT_STRTAB, SHT_SYMTAB,
  SHT_SYMTAB_SHNDX, type SectionHeader,
} from '../../server/src/elf/index';
import { MODULE_ADDRESS_HIGH } from '../../server/src/load/layout';
import type { SymbolValues } from '../../server/src/load/simplify-symbols';

export interface EngineView {
  addressLow: Uint32Array;
  placed: Uint8Array;
  values: SymbolValues;
}

export interface LdLink {
  output: ElfFile;
  stderr: string;
  status: number | null;
  // ld's "relocation truncated to fit" complaints, as section index and offset in it.
  truncated: { section: number; offset: number; type: string; symbol: string }[];
}

const SHF_MERGE = 0x10;
const SHF_STRINGS = 0x20;
const SHF_EXCLUDE = 0x80000000;
const SHT_GROUP = 17;
const CONSUMED = new Set([SHT_NULL, SHT_SYMTAB, SHT_STRTAB, SHT_RELA, SHT_REL, SHT_GROUP,
  SHT_SYMTAB_SHNDX]);

// Every section is renamed to ".k<index>": a linker script can then name each input section
// exactly even when a module has two of the same name, and ld gives none of them the special
// treatment it reserves for names like .eh_frame or .gnu.linkonce.*.
export function sectionAlias(index: number): string {
  return `.k${index}`;
}

// A copy of the module that ld links the way the kernel lays it out: new names, no string
// merging (the kernel copies merge sections verbatim), SHF_ALLOC dropped from what the engine
// did not place (as rewrite_section_headers() does), and alignment 1 so that each input
// section starts exactly at its output section's address.
export function ldInput(bytes: Uint8Array, placed: Uint8Array): Uint8Array {
  const elf = ElfFile.open(bytes);
  const names: number[] = [];
  let strtab = '\0';
  for (const s of elf.sections) {
    names.push(strtab.length);
    strtab += `${sectionAlias(s.index)}\0`;
  }
  const strBytes = Buffer.from(strtab, 'latin1');
  const out = new Uint8Array(bytes.length + strBytes.length);
  out.set(bytes);
  out.set(strBytes, bytes.length);
  const dv = new DataView(out.buffer);
  for (const s of elf.sections) {
    if (s.index === 0) continue;
    const h = s.headerOffset;
    dv.setUint32(h, names[s.index], true);
    let flags = dv.getUint32(h + 8, true);
    flags &= ~(SHF_MERGE | SHF_STRINGS | SHF_EXCLUDE);
    if (!placed[s.index]) flags &= ~SHF_ALLOC;
    dv.setUint32(h + 8, flags >>> 0, true);
    if (placed[s.index]) dv.setBigUint64(h + 48, 1n, true);
  }
  const shstr = elf.sections[elf.header.shstrndx].headerOffset;
  dv.setBigUint64(shstr + 24, BigInt(bytes.length), true);
  dv.setBigUint64(shstr + 32, BigInt(strBytes.length), true);
  return out;
}

function hex64(high: number, low: number): string {
  return `0x${high.toString(16).padStart(8, '0')}${low.toString(16).padStart(8, '0')}`;
}

// Sections ld consumes itself rather than copying to the output.
function isContent(s: SectionHeader): boolean {
  return s.index !== 0 && !CONSUMED.has(s.type);
}

export function linkerScript(elf: ElfFile, view: EngineView): string {
  const lines: string[] = [];
  const syms = elf.symbols!;
  const seen = new Set<string>();
  for (let i = 1; i < syms.count; i++) {
    if (syms.rawShndx[i] !== SHN_UNDEF) continue;
    const name = syms.name(i);
    if (!name || seen.has(name)) continue;
    seen.add(name);
    lines.push(`"${name}" = ${hex64(view.values.high[i], view.values.low[i])};`);
  }
  lines.push('SECTIONS {');
  for (const s of elf.sections) {
    if (!isContent(s)) continue;
    const at = view.placed[s.index] ? hex64(MODULE_ADDRESS_HIGH, view.addressLow[s.index]) : '0';
    const alias = sectionAlias(s.index);
    lines.push(`  ${alias} ${at} : { KEEP(*(${alias})) }`);
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

const TRUNCATED = new RegExp(String.raw`\(\.k(\d+)\+0x([0-9a-f]+)\): relocation truncated to ` +
  String.raw`fit: (\S+) against (?:undefined )?(?:symbol )?` + '`([^\']*)\'');

// Links `bytes` (an ELF relocatable, signature already removed) with ld.
export function ldLink(bytes: Uint8Array, view: EngineView): LdLink {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kmodsim-ld-'));
  try {
    const input = ldInput(bytes, view.placed);
    const inElf = ElfFile.open(input);
    fs.writeFileSync(path.join(dir, 'in.o'), input);
    fs.writeFileSync(path.join(dir, 'link.ld'), linkerScript(inElf, view));
    // --no-relax: the kernel rewrites no instructions, so ld must not either. Overlapping
    // address-0 sections are expected, hence --no-check-sections.
    const r = spawnSync('ld', ['-m', 'elf_x86_64', '-static', '-nostdlib', '--no-relax',
      '--noinhibit-exec', '--no-check-sections', '--build-id=none', '-z', 'noexecstack',
      '-z', 'norelro', '--no-warn-rwx-segments', '-e', '0', '-T', 'link.ld', '-o', 'out.elf',
      'in.o'], { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.error) throw r.error;
    const outPath = path.join(dir, 'out.elf');
    if (!fs.existsSync(outPath)) throw new Error(`ld wrote nothing:\n${r.stderr}`);
    const output = ElfFile.open(new Uint8Array(fs.readFileSync(outPath)));
    const truncated: LdLink['truncated'] = [];
    for (const line of r.stderr.split('\n')) {
      const m = TRUNCATED.exec(line);
      if (m) {
        truncated.push({ section: Number(m[1]), offset: parseInt(m[2], 16), type: m[3],
          symbol: m[4] });
      }
    }
    return { output, stderr: r.stderr, status: r.status, truncated };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface Mismatch {
  section: number;
  name: string;
  problem: string;
}

// The bytes ld placed for section `index`, and its address, read from ld's output.
export function ldSection(out: ElfFile, index: number): { bytes: Uint8Array; addr: bigint } {
  const s = out.section(sectionAlias(index));
  if (!s) throw new Error(`ld output has no ${sectionAlias(index)}`);
  return { bytes: out.sectionData(s), addr: out.exactSectionField(s, 'addr') };
}

// Compares every engine image with ld's bytes; returns one line per disagreeing section.
export function compareImages(moduleFile: string, input: ElfFile, out: ElfFile,
  view: EngineView, images: Map<number, Uint8Array>): Mismatch[] {
  const bad: Mismatch[] = [];
  for (const [index, image] of images) {
    const name = input.sections[index].name;
    const ld = ldSection(out, index);
    const want = (BigInt(MODULE_ADDRESS_HIGH) << 32n) | BigInt(view.addressLow[index]);
    if (ld.addr !== want) {
      bad.push({ section: index, name, problem: `ld placed it at 0x${ld.addr.toString(16)}, ` +
        `the engine at 0x${want.toString(16)}` });
      continue;
    }
    const n = Math.max(image.length, ld.bytes.length);
    for (let i = 0; i < n; i++) {
      if (image[i] === ld.bytes[i]) continue;
      bad.push({ section: index, name, problem: `first difference at offset 0x${i.toString(16)}` +
        ` (engine ${byteAt(image, i)}, ld ${byteAt(ld.bytes, i)}); relocation there: ` +
        relocationAt(moduleFile, name, i) });
      break;
    }
  }
  return bad;
}

function byteAt(b: Uint8Array, i: number): string {
  return i < b.length ? `0x${b[i].toString(16).padStart(2, '0')}` : 'past the end';
}

// The readelf -rW line of the relocation covering `offset` of section `name`, for reports.
export function relocationAt(moduleFile: string, name: string, offset: number): string {
  const text = execFileSync('readelf', ['-rW', moduleFile], { encoding: 'utf8',
    maxBuffer: 256 << 20 });
  let inSection = false;
  let best = 'none found';
  for (const line of text.split('\n')) {
    const head = /^Relocation section '([^']*)'/.exec(line);
    if (head) {
      inSection = head[1] === `.rela${name}`;
      continue;
    }
    if (!inSection) continue;
    const m = /^([0-9a-f]{16})\s+[0-9a-f]{16}\s+(R_X86_64_(\w+))/.exec(line);
    if (!m) continue;
    const at = parseInt(m[1], 16);
    const size = /^(64|PC64)$/.test(m[3]) ? 8 : 4;
    if (offset >= at && offset < at + size) best = line.trim().replace(/\s+/g, ' ');
  }
  return best;
}

// The symbols a module exports: `__ksymtab` and `__ksymtab_gpl` with their parallel CRC tables
// `__kcrctab` and `__kcrctab_gpl`. With CONFIG_HAVE_ARCH_PREL32_RELOCATIONS (x86_64, arm64) an
// entry is three 32-bit offsets (value, name, namespace), otherwise three pointers; in a .ko
// either form is zero bytes plus relocations, resolved here through RelocatedView.

import type { ElfFile, SectionHeader } from '../elf/index.js';
import type { RelocatedView } from './pointers.js';

export interface ExportedSymbol {
  name: string;
  // The symbol the value field refers to (normally the same as `name`).
  target: string;
  gplOnly: boolean;
  namespace: string;
  crc?: number;
  section: string;
  offset: number;
}

// x86_64 R_X86_64_PC32, arm64 R_AARCH64_PREL32, i386 R_386_PC32: what marks a PREL32 entry.
const PREL32_TYPES = new Set([2, 261]);

export function readExports(elf: ElfFile, relocated: RelocatedView): ExportedSymbol[] {
  const out: ExportedSymbol[] = [];
  for (const [tab, crcs, gplOnly] of [
    ['__ksymtab', '__kcrctab', false],
    ['__ksymtab_gpl', '__kcrctab_gpl', true],
  ] as const) {
    const section = elf.section(tab);
    if (!section) continue;
    readTable(elf, relocated, section, elf.section(crcs), gplOnly, out);
  }
  return out;
}

function readTable(elf: ElfFile, relocated: RelocatedView, section: SectionHeader,
  crcSection: SectionHeader | undefined, gplOnly: boolean, out: ExportedSymbol[]) {
  const first = relocated.relocationAt(section.index, 0);
  const prel = first ? PREL32_TYPES.has(first.table.type(first.entry)) : true;
  const ptr = prel ? 4 : elf.is64 ? 8 : 4;
  const entsize = ptr * 3;
  // From the bytes in the file, not sh_size alone: a size near 2^64 would loop for ever.
  const count = Math.floor(elf.sectionData(section).length / entsize);
  const symbols = elf.symbols;
  // Bounds-checked against the file once (ElfFormatError), not only against sh_size.
  const crcBytes = crcSection ? elf.sectionData(crcSection).length : 0;
  for (let i = 0; i < count; i++) {
    const at = i * entsize;
    const value = relocated.pointerAt(section.index, at);
    const name = relocated.stringAt(relocated.pointerAt(section.index, at + ptr), 512) ?? '';
    const namespace = relocated.stringAt(relocated.pointerAt(section.index, at + 2 * ptr), 512)
      ?? '';
    const target = value && symbols ? symbols.name(value.symbol) ?? '' : '';
    let crc: number | undefined;
    if (crcSection && (i + 1) * 4 <= crcBytes) {
      crc = elf.view.u32(crcSection.offset + i * 4);
    }
    out.push({ name: name || target, target, gplOnly, namespace, crc, section: section.name,
      offset: at });
  }
}

// `__versions`: the CRC that modpost recorded for every symbol the module imports, plus
// `module_layout`. Each entry is `struct modversion_info`: an unsigned long CRC and a name
// filling the rest of 64 bytes. 7.2's extended form keeps CRCs and names in two parallel
// sections, `__version_ext_crcs` (u32 each) and `__version_ext_names` (NUL-separated).

import type { ElfFile, SectionHeader } from '../elf/index.js';

export interface VersionEntry {
  name: string;
  crc: number;
  // The CRC field exactly as stored: on 64-bit it is an unsigned long, and the kernel compares
  // it whole against the 32-bit CRC, so a nonzero high half never matches.
  crcHigh: number;
  offset: number;
}

export interface Versions {
  section: SectionHeader;
  entries: VersionEntry[];
  // Bytes at the end of the section that do not make a whole entry.
  trailingBytes: number;
}

export function readVersions(elf: ElfFile, section: SectionHeader | undefined):
  Versions | undefined {
  if (!section) return undefined;
  const data = elf.sectionData(section);
  const entsize = 64;
  const crcSize = elf.is64 ? 8 : 4;
  const entries: VersionEntry[] = [];
  const count = Math.floor(data.length / entsize);
  for (let i = 0; i < count; i++) {
    const at = section.offset + i * entsize;
    const crc = elf.view.u32(elf.view.little ? at : at + crcSize - 4);
    const crcHigh = elf.is64 ? elf.view.u32(elf.view.little ? at + 4 : at) : 0;
    const nameStart = at + crcSize;
    const nameEnd = at + entsize;
    // The kernel compares names with strcmp, so a name is whatever precedes the first NUL; an
    // unterminated name runs into the next entry in the kernel too, which we stop short of.
    const name = elf.view.cstring(nameStart, nameEnd) ?? elf.view.latin1Slice(nameStart, nameEnd);
    entries.push({ name, crc, crcHigh, offset: at });
  }
  return { section, entries, trailingBytes: data.length % entsize };
}

export interface ExtendedVersions {
  crcs: number[];
  names: string[];
}

export function readExtendedVersions(elf: ElfFile): ExtendedVersions | undefined {
  const crcSec = elf.section('__version_ext_crcs');
  const nameSec = elf.section('__version_ext_names');
  if (!crcSec || !nameSec) return undefined;
  const crcData = elf.sectionData(crcSec);
  const crcs: number[] = [];
  for (let i = 0; i + 4 <= crcData.length; i += 4) crcs.push(elf.view.u32(crcSec.offset + i));
  const nameData = elf.sectionData(nameSec);
  const names: string[] = [];
  let i = 0;
  while (i < nameData.length) {
    const end = nameData.indexOf(0, i);
    if (end < 0) break;
    names.push(elf.view.latin1Slice(nameSec.offset + i, nameSec.offset + end));
    i = end + 1;
  }
  return { crcs, names };
}

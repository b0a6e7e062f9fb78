// The symbol table, decoded once into typed arrays so that symbol lookup and relocation never
// allocate per symbol. Names are decoded to strings only when asked for.

import { SHN_XINDEX, SHT_NOBITS } from './constants.js';
import { ElfFormatError } from './errors.js';
import type { ElfFile, SectionHeader } from './file.js';

export class SymbolTable {
  readonly section: SectionHeader;
  readonly strtab: SectionHeader | undefined;
  readonly count: number;
  readonly nameOffset: Uint32Array;
  // st_value as two 32-bit halves: kernel addresses do not fit in a double exactly.
  readonly valueLo: Uint32Array;
  readonly valueHi: Uint32Array;
  readonly size: Float64Array;
  readonly info: Uint8Array;
  readonly other: Uint8Array;
  // st_shndx, with SHN_XINDEX replaced by the SHT_SYMTAB_SHNDX entry when there is one.
  readonly shndx: Uint32Array;
  // st_shndx exactly as stored (16 bits).
  readonly rawShndx: Uint16Array;
  private readonly file: ElfFile;
  private names?: (string | undefined)[];

  constructor(file: ElfFile, section: SectionHeader, xindex?: SectionHeader) {
    this.file = file;
    this.section = section;
    const where = { index: section.index, name: section.name };
    const entsize = file.is64 ? 24 : 16;
    if (section.type === SHT_NOBITS) {
      throw new ElfFormatError('bad-section', 'symbol table has no contents (NOBITS)', 
        section.offset, where);
    }
    file.view.check(section.offset, section.size, 'symbol table', where);
    const strtab = file.sections[section.link];
    this.strtab = section.link !== 0 ? strtab : undefined;
    const count = Math.floor(section.size / entsize);
    this.count = count;
    this.nameOffset = new Uint32Array(count);
    this.valueLo = new Uint32Array(count);
    this.valueHi = new Uint32Array(count);
    this.size = new Float64Array(count);
    this.info = new Uint8Array(count);
    this.other = new Uint8Array(count);
    this.shndx = new Uint32Array(count);
    this.rawShndx = new Uint16Array(count);
    const v = file.view;
    let at = section.offset;
    for (let i = 0; i < count; i++, at += entsize) {
      this.nameOffset[i] = v.u32(at);
      if (file.is64) {
        this.info[i] = v.u8(at + 4);
        this.other[i] = v.u8(at + 5);
        this.rawShndx[i] = v.u16(at + 6);
        this.valueLo[i] = v.u64lo(at + 8);
        this.valueHi[i] = v.u64hi(at + 8);
        this.size[i] = v.u64(at + 16);
      } else {
        this.valueLo[i] = v.u32(at + 4);
        this.size[i] = v.u32(at + 8);
        this.info[i] = v.u8(at + 12);
        this.other[i] = v.u8(at + 13);
        this.rawShndx[i] = v.u16(at + 14);
      }
      this.shndx[i] = this.rawShndx[i];
    }
    if (xindex) this.applyXindex(xindex);
  }

  private applyXindex(xindex: SectionHeader) {
    const v = this.file.view;
    const where = { index: xindex.index, name: xindex.name };
    v.check(xindex.offset, xindex.size, 'SHT_SYMTAB_SHNDX table', where);
    const n = Math.min(this.count, Math.floor(xindex.size / 4));
    for (let i = 0; i < n; i++) {
      if (this.rawShndx[i] === SHN_XINDEX) this.shndx[i] = v.u32(xindex.offset + i * 4);
    }
  }

  bind(i: number): number {
    return this.info[i] >> 4;
  }

  type(i: number): number {
    return this.info[i] & 0xf;
  }

  // The symbol's name, or null when st_name points outside the string table or the name is
  // not terminated inside it.
  name(i: number): string | null {
    if (!this.names) this.names = new Array(this.count);
    const cached = this.names[i];
    if (cached !== undefined) return cached;
    const s = this.strtab;
    if (!s || s.type === SHT_NOBITS || this.nameOffset[i] >= s.size) return null;
    const end = Math.min(s.offset + s.size, this.file.length);
    const name = this.file.view.cstring(s.offset + this.nameOffset[i], end);
    if (name !== null) this.names[i] = name;
    return name;
  }

  // st_value exactly.
  value(i: number): bigint {
    return (BigInt(this.valueHi[i]) << 32n) | BigInt(this.valueLo[i]);
  }

  // Index of the first symbol with this name, or -1.
  find(name: string): number {
    for (let i = 1; i < this.count; i++) if (this.name(i) === name) return i;
    return -1;
  }
}

// REL and RELA sections, read entry by entry straight from the file bytes: the hot path of a
// load applies millions of these, so no object is made per entry.

import { SHT_RELA } from './constants.js';
import { ElfFormatError } from './errors.js';
import type { ElfFile, SectionHeader } from './file.js';

export class RelocationSection {
  readonly section: SectionHeader;
  readonly isRela: boolean;
  readonly entsize: number;
  readonly count: number;
  // The section the relocations apply to (sh_info) and the symbol table they use (sh_link).
  readonly target: number;
  readonly symtab: number;
  private readonly file: ElfFile;

  constructor(file: ElfFile, section: SectionHeader) {
    this.file = file;
    this.section = section;
    this.isRela = section.type === SHT_RELA;
    this.entsize = file.is64 ? (this.isRela ? 24 : 16) : (this.isRela ? 12 : 8);
    this.count = Math.floor(section.size / this.entsize);
    this.target = section.info;
    this.symtab = section.link;
  }

  // Bounds-check the whole table once, so that the per-entry reads below need no checks.
  check() {
    const s = this.section;
    if (s.size % this.entsize !== 0) {
      throw new ElfFormatError('bad-relocation',
        `size ${s.size} is not a multiple of the entry size ${this.entsize}`, s.headerOffset,
        { index: s.index, name: s.name });
    }
    this.file.view.check(s.offset, s.size, 'relocation table', { index: s.index, name: s.name });
  }

  entryOffset(i: number): number {
    return this.section.offset + i * this.entsize;
  }

  // r_offset: where in the target section the relocation applies.
  offset(i: number): number {
    const at = this.entryOffset(i);
    return this.file.is64 ? this.file.view.u64(at) : this.file.view.u32(at);
  }

  type(i: number): number {
    const at = this.entryOffset(i);
    return this.file.is64 ? this.file.view.u64lo(at + 8) : this.file.view.u32(at + 4) & 0xff;
  }

  sym(i: number): number {
    const at = this.entryOffset(i);
    return this.file.is64 ? this.file.view.u64hi(at + 8) : this.file.view.u32(at + 4) >>> 8;
  }

  // r_addend as two 32-bit halves (two's complement); zero for REL.
  addendLo(i: number): number {
    if (!this.isRela) return 0;
    const at = this.entryOffset(i);
    return this.file.is64 ? this.file.view.u64lo(at + 16) : this.file.view.u32(at + 8);
  }

  addendHi(i: number): number {
    if (!this.isRela) return 0;
    const at = this.entryOffset(i);
    if (this.file.is64) return this.file.view.u64hi(at + 16);
    return this.file.view.u32(at + 8) & 0x80000000 ? 0xffffffff : 0;
  }

  // r_addend exactly, signed.
  addend(i: number): bigint {
    if (!this.isRela) return 0n;
    const at = this.entryOffset(i);
    if (this.file.is64) return this.file.view.data.getBigInt64(at + 16, this.file.view.little);
    return BigInt(this.file.view.i32(at + 8));
  }
}

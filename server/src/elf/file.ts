// The ELF decoder: header and section table decoded on open, everything else on demand.
// Handles ELF32 and ELF64, either byte order, SHN_XINDEX and extended section numbering.
// The kernel reads every module as its own native class and byte order whatever e_ident says
// (EI_CLASS and EI_DATA are not checked on x86_64 or arm64), so `open` can be told to do that.

import {
  ELFCLASS32, ELFCLASS64, ELFDATA2LSB, ELFDATA2MSB, SHN_XINDEX, SHT_NOBITS, SHT_NULL,
  SHT_REL, SHT_RELA, SHT_SYMTAB, SHT_SYMTAB_SHNDX,
} from './constants.js';
import { ElfFormatError } from './errors.js';
import { SymbolTable } from './symbols.js';
import { RelocationSection } from './relocations.js';
import { ByteView } from './view.js';

export interface ElfHeader {
  ident: Uint8Array;
  fileClass: number;
  encoding: number;
  type: number;
  machine: number;
  version: number;
  flags: number;
  ehsize: number;
  shoff: number;
  shentsize: number;
  shnum: number;
  shstrndx: number;
  // The e_shnum and e_shstrndx fields as stored, before extended numbering is applied.
  rawShnum: number;
  rawShstrndx: number;
}

export interface SectionHeader {
  index: number;
  nameOffset: number;
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
  // Where this header itself sits in the file.
  headerOffset: number;
}

export interface OpenOptions {
  // Read as this class and byte order regardless of e_ident, as the kernel does.
  forceClass?: 32 | 64;
  forceLittleEndian?: boolean;
}

// A file decoded ahead of a load, for the load's own open of the same bytes (see handOver).
let handedOver: ElfFile | undefined;

export class ElfFile {
  readonly view: ByteView;
  readonly header: ElfHeader;
  readonly is64: boolean;
  private readonly opened: OpenOptions;
  private sectionTable?: SectionHeader[];
  private symbolTable?: SymbolTable | null;

  private constructor(view: ByteView, header: ElfHeader, is64: boolean, opened: OpenOptions) {
    this.view = view;
    this.header = header;
    this.is64 = is64;
    this.opened = opened;
  }

  // The next `open` on this thread, if it is of exactly these bytes with the same options,
  // returns this file instead of decoding it again; any other open drops it. `kmodsim check`
  // reads a module's symbols to put its dependencies in place just before the load decodes
  // the same module; the caller must not change the bytes in between.
  static handOver(elf: ElfFile | undefined) {
    handedOver = elf;
  }

  // Decodes the ELF header. Throws ElfFormatError; `tryOpen` wraps it.
  static open(bytes: Uint8Array, opts: OpenOptions = {}): ElfFile {
    const ready = handedOver;
    handedOver = undefined;
    if (ready && ready.view.bytes.buffer === bytes.buffer
      && ready.view.bytes.byteOffset === bytes.byteOffset && ready.length === bytes.length
      && ready.opened.forceClass === opts.forceClass
      && ready.opened.forceLittleEndian === opts.forceLittleEndian) {
      return ready;
    }
    if (bytes.length < 16) {
      throw new ElfFormatError('truncated', `file of ${bytes.length} bytes has no ELF ident`, 0);
    }
    if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
      throw new ElfFormatError('bad-magic', 'not an ELF file (no \\x7fELF magic)', 0);
    }
    const fileClass = bytes[4];
    const encoding = bytes[5];
    const is64 = opts.forceClass ? opts.forceClass === 64 : fileClass === ELFCLASS64;
    if (!opts.forceClass && fileClass !== ELFCLASS32 && fileClass !== ELFCLASS64) {
      throw new ElfFormatError('bad-class', `EI_CLASS ${fileClass} is neither 1 nor 2`, 4);
    }
    let little: boolean;
    if (opts.forceLittleEndian !== undefined) little = opts.forceLittleEndian;
    else if (encoding === ELFDATA2LSB) little = true;
    else if (encoding === ELFDATA2MSB) little = false;
    else throw new ElfFormatError('bad-encoding', `EI_DATA ${encoding} is neither 1 nor 2`, 5);

    const view = new ByteView(bytes, little);
    const ehsize = is64 ? 64 : 52;
    view.check(0, ehsize, 'ELF header');
    const header = is64 ? readHeader64(view) : readHeader32(view);
    return new ElfFile(view, header, is64,
      { forceClass: opts.forceClass, forceLittleEndian: opts.forceLittleEndian });
  }

  get bytes(): Uint8Array {
    return this.view.bytes;
  }

  get length(): number {
    return this.view.length;
  }

  // The section table, decoded once. Throws when the table itself lies outside the file;
  // individual sections that point outside the file are reported by `sectionData`.
  get sections(): SectionHeader[] {
    if (!this.sectionTable) this.sectionTable = this.readSections();
    return this.sectionTable;
  }

  private readSections(): SectionHeader[] {
    const h = this.header;
    const entsize = this.is64 ? 64 : 40;
    if (h.shoff === 0) return [];
    if (h.shentsize !== entsize) {
      throw new ElfFormatError('bad-header',
        `e_shentsize is ${h.shentsize}, expected ${entsize}`, this.is64 ? 58 : 46);
    }
    let shnum = h.shnum;
    if (h.rawShnum === 0) {
      // Extended numbering: the real count lives in section 0's sh_size.
      this.view.check(h.shoff, entsize, 'section header 0');
      shnum = this.is64 ? this.view.u64(h.shoff + 32) : this.view.u32(h.shoff + 20);
      h.shnum = shnum;
    }
    if (shnum > (this.length - h.shoff) / entsize || h.shoff > this.length) {
      throw new ElfFormatError('truncated',
        `${shnum} section headers at 0x${h.shoff.toString(16)} run past the end of the file ` +
        `(${this.length} bytes)`, h.shoff);
    }
    const out: SectionHeader[] = new Array(shnum);
    for (let i = 0; i < shnum; i++) {
      out[i] = this.is64 ? readSection64(this.view, h.shoff + i * 64, i)
        : readSection32(this.view, h.shoff + i * 40, i);
    }
    if (h.rawShstrndx === SHN_XINDEX && shnum > 0) h.shstrndx = out[0].link;
    const strtab = h.shstrndx < shnum ? out[h.shstrndx] : undefined;
    for (const s of out) s.name = strtab ? this.nameIn(strtab, s.nameOffset) : '';
    return out;
  }

  private nameIn(strtab: SectionHeader, offset: number): string {
    if (strtab.type === SHT_NOBITS || offset >= strtab.size) return '';
    const end = Math.min(strtab.offset + strtab.size, this.length);
    return this.view.cstring(strtab.offset + offset, end) ?? '';
  }

  // The first section of this name, or undefined.
  section(name: string): SectionHeader | undefined {
    for (const s of this.sections) if (s.name === name) return s;
    return undefined;
  }

  // A zero-copy view of a section's bytes; NOBITS sections have none.
  sectionData(s: SectionHeader): Uint8Array {
    if (s.type === SHT_NOBITS || s.type === SHT_NULL) return new Uint8Array(0);
    this.view.check(s.offset, s.size, 'section contents', { index: s.index, name: s.name });
    return this.view.bytes.subarray(s.offset, s.offset + s.size);
  }

  // The symbol table (the first SHT_SYMTAB), or null when there is none.
  get symbols(): SymbolTable | null {
    if (this.symbolTable === undefined) {
      const symtab = this.sections.find((s) => s.type === SHT_SYMTAB);
      if (!symtab) {
        this.symbolTable = null;
      } else {
        const shndx = this.sections.find((s) => s.type === SHT_SYMTAB_SHNDX
          && s.link === symtab.index);
        this.symbolTable = new SymbolTable(this, symtab, shndx);
      }
    }
    return this.symbolTable;
  }

  relocationSections(): RelocationSection[] {
    const out: RelocationSection[] = [];
    for (const s of this.sections) {
      if (s.type === SHT_RELA || s.type === SHT_REL) out.push(new RelocationSection(this, s));
    }
    return out;
  }

  // Offset of a 64-bit field in a section header, for exact reads of it.
  exactSectionField(s: SectionHeader, field: 'addr' | 'offset' | 'size' | 'flags'): bigint {
    if (!this.is64) {
      const at = { flags: 8, addr: 12, offset: 16, size: 20 }[field];
      return BigInt(this.view.u32(s.headerOffset + at));
    }
    const at = { flags: 8, addr: 16, offset: 24, size: 32 }[field];
    return this.view.u64exact(s.headerOffset + at);
  }
}

export function tryOpen(bytes: Uint8Array, opts: OpenOptions = {}):
  { ok: true; elf: ElfFile } | { ok: false; error: ElfFormatError } {
  try {
    return { ok: true, elf: ElfFile.open(bytes, opts) };
  } catch (e) {
    if (e instanceof ElfFormatError) return { ok: false, error: e };
    throw e;
  }
}

function readHeader64(v: ByteView): ElfHeader {
  const rawShnum = v.u16(60);
  const rawShstrndx = v.u16(62);
  return {
    ident: v.bytes.subarray(0, 16),
    fileClass: v.u8(4),
    encoding: v.u8(5),
    type: v.u16(16),
    machine: v.u16(18),
    version: v.u32(20),
    shoff: v.u64(40),
    flags: v.u32(48),
    ehsize: v.u16(52),
    shentsize: v.u16(58),
    shnum: rawShnum,
    shstrndx: rawShstrndx,
    rawShnum,
    rawShstrndx,
  };
}

function readHeader32(v: ByteView): ElfHeader {
  const rawShnum = v.u16(48);
  const rawShstrndx = v.u16(50);
  return {
    ident: v.bytes.subarray(0, 16),
    fileClass: v.u8(4),
    encoding: v.u8(5),
    type: v.u16(16),
    machine: v.u16(18),
    version: v.u32(20),
    shoff: v.u32(32),
    flags: v.u32(36),
    ehsize: v.u16(40),
    shentsize: v.u16(46),
    shnum: rawShnum,
    shstrndx: rawShstrndx,
    rawShnum,
    rawShstrndx,
  };
}

function readSection64(v: ByteView, at: number, index: number): SectionHeader {
  return {
    index,
    nameOffset: v.u32(at),
    name: '',
    type: v.u32(at + 4),
    flags: v.u64lo(at + 8),  // every flag the kernel tests is in the low half
    addr: v.u64(at + 16),
    offset: v.u64(at + 24),
    size: v.u64(at + 32),
    link: v.u32(at + 40),
    info: v.u32(at + 44),
    addralign: v.u64(at + 48),
    entsize: v.u64(at + 56),
    headerOffset: at,
  };
}

function readSection32(v: ByteView, at: number, index: number): SectionHeader {
  return {
    index,
    nameOffset: v.u32(at),
    name: '',
    type: v.u32(at + 4),
    flags: v.u32(at + 8),
    addr: v.u32(at + 12),
    offset: v.u32(at + 16),
    size: v.u32(at + 20),
    link: v.u32(at + 24),
    info: v.u32(at + 28),
    addralign: v.u32(at + 32),
    entsize: v.u32(at + 36),
    headerOffset: at,
  };
}

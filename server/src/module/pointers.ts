// Reading the pointers of a relocatable object. In a `.ko`, a pointer field holds zero and its
// meaning lives in a relocation against it: "symbol S plus addend A". This resolves such fields
// to a place (section and offset) or to the name of an undefined symbol, which is how the
// kernel's own structures in a module (__this_module, __ksymtab, __param) are decoded.

import { SHN_UNDEF, SHT_NOBITS, type ElfFile, type RelocationSection } from '../elf/index.js';

export type Pointer =
  | { kind: 'place'; section: number; offset: number; symbol: number }
  | { kind: 'undefined'; name: string; symbol: number; addend: number }
  | { kind: 'absolute'; value: number; symbol: number };

interface Hit {
  table: RelocationSection;
  entry: number;
}

export class RelocatedView {
  private readonly elf: ElfFile;
  private readonly byTarget = new Map<number, Map<number, Hit>>();

  constructor(elf: ElfFile) {
    this.elf = elf;
  }

  private index(target: number): Map<number, Hit> {
    let map = this.byTarget.get(target);
    if (map) return map;
    map = new Map();
    for (const table of this.elf.relocationSections()) {
      if (table.target !== target) continue;
      table.check();
      for (let i = 0; i < table.count; i++) map.set(table.offset(i), { table, entry: i });
    }
    this.byTarget.set(target, map);
    return map;
  }

  relocationAt(section: number, offset: number): Hit | undefined {
    return this.index(section).get(offset);
  }

  // The pointer stored at `offset` of `section`, resolved through its relocation. PC-relative
  // fields (PREL32) resolve the same way: the field holds S + A - P and so points at S + A.
  pointerAt(section: number, offset: number): Pointer | undefined {
    const hit = this.relocationAt(section, offset);
    if (!hit) return undefined;
    const symbols = this.elf.symbols;
    const sym = hit.table.sym(hit.entry);
    if (!symbols || sym >= symbols.count) return undefined;
    const addend = Number(hit.table.addend(hit.entry));
    const shndx = symbols.shndx[sym];
    if (shndx === SHN_UNDEF) {
      return { kind: 'undefined', name: symbols.name(sym) ?? '', symbol: sym, addend };
    }
    if (shndx >= this.elf.sections.length) {
      return { kind: 'absolute', value: symbols.valueLo[sym] + addend, symbol: sym };
    }
    return { kind: 'place', section: shndx, offset: symbols.valueLo[sym] + addend, symbol: sym };
  }

  // The NUL-terminated string a pointer points at, when it points into the file; empty inside
  // NOBITS (.bss), which the loader zeroes and whose sh_offset holds other sections' bytes.
  stringAt(p: Pointer | undefined, maxLength = 4096): string | undefined {
    if (!p || p.kind !== 'place') return undefined;
    const s = this.elf.sections[p.section];
    if (!s || p.offset < 0 || p.offset >= s.size) return undefined;
    if (s.type === SHT_NOBITS) return '';
    const start = s.offset + p.offset;
    const end = Math.min(s.offset + s.size, start + maxLength, this.elf.length);
    return this.elf.view.cstring(start, end) ?? undefined;
  }

  // `size` initial bytes of the object a pointer points at; zeros for NOBITS (.bss).
  bytesAt(p: Pointer | undefined, size: number): Uint8Array | undefined {
    if (!p || p.kind !== 'place') return undefined;
    const s = this.elf.sections[p.section];
    if (!s || p.offset < 0 || p.offset + size > s.size) return undefined;
    if (s.type === SHT_NOBITS) return new Uint8Array(size);
    const start = s.offset + p.offset;
    if (start + size > this.elf.length) return undefined;
    return this.elf.bytes.subarray(start, start + size);
  }
}

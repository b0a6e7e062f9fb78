// `.modinfo`: a run of NUL-terminated `key=value` strings, possibly with NUL padding between
// them. Every entry is kept in file order, repeated keys included; the kernel's get_modinfo
// answers with the first entry of a key.

import type { ElfFile, SectionHeader } from '../elf/index.js';

export interface ModinfoEntry {
  key: string;
  value: string;
  // File offset of the entry's first byte, for diagnostics and for image edits.
  offset: number;
  length: number;
}

export class Modinfo {
  readonly entries: ModinfoEntry[];
  readonly section: SectionHeader | undefined;

  constructor(entries: ModinfoEntry[], section?: SectionHeader) {
    this.entries = entries;
    this.section = section;
  }

  // get_modinfo(): the value of the first entry of this key, or undefined.
  get(key: string): string | undefined {
    for (const e of this.entries) if (e.key === key) return e.value;
    return undefined;
  }

  getAll(key: string): string[] {
    const out: string[] = [];
    for (const e of this.entries) if (e.key === key) out.push(e.value);
    return out;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }
}

// Reads the strings of a .modinfo section. A string without '=' is kept with an empty value
// under its whole text as key, because the kernel's prefix match can never select it and
// `modinfo` prints it that way.
export function readModinfo(elf: ElfFile, section: SectionHeader | undefined): Modinfo {
  if (!section) return new Modinfo([]);
  const data = elf.sectionData(section);
  const entries: ModinfoEntry[] = [];
  let i = 0;
  while (i < data.length) {
    if (data[i] === 0) {
      i++;
      continue;
    }
    let end = data.indexOf(0, i);
    if (end < 0) end = data.length;
    const start = section.offset + i;
    const text = elf.view.utf8(start, section.offset + end);
    const eq = text.indexOf('=');
    entries.push({
      key: eq < 0 ? text : text.slice(0, eq),
      value: eq < 0 ? '' : text.slice(eq + 1),
      offset: start,
      length: end - i,
    });
    i = end + 1;
  }
  return new Modinfo(entries, section);
}

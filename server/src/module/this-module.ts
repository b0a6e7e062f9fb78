// `.gnu.linkonce.this_module`: the module's own `struct module`, as modpost initialised it.
// Its size is sizeof(struct module) of the kernel it was built for, which 6.12+ checks
// exactly; its name field (char name[56] at offset 24 in every version read) is what the
// kernel prints before most messages; its init and exit pointers are relocations.

import type { ElfFile, SectionHeader } from '../elf/index.js';
import type { RelocatedView } from './pointers.js';

export const MODULE_NAME_OFFSET = 24;
export const MODULE_NAME_LEN = 56;

export interface ThisModule {
  section: SectionHeader;
  size: number;
  name: string;
  // Every pointer modpost filled in, by offset: typically `.init` -> init_module and
  // `.exit` -> cleanup_module.
  pointers: { offset: number; symbol: string }[];
  init?: { offset: number; symbol: string };
  exit?: { offset: number; symbol: string };
}

export function readThisModule(elf: ElfFile, section: SectionHeader | undefined,
  relocated: RelocatedView): ThisModule | undefined {
  if (!section) return undefined;
  const data = elf.sectionData(section);
  let name = '';
  if (data.length >= MODULE_NAME_OFFSET + 1) {
    const start = section.offset + MODULE_NAME_OFFSET;
    const end = section.offset + Math.min(data.length, MODULE_NAME_OFFSET + MODULE_NAME_LEN);
    name = elf.view.cstring(start, end) ?? elf.view.latin1Slice(start, end);
  }
  const pointers: { offset: number; symbol: string }[] = [];
  for (const table of elf.relocationSections()) {
    if (table.target !== section.index) continue;
    table.check();
    const symbols = elf.symbols;
    for (let i = 0; i < table.count; i++) {
      const sym = table.sym(i);
      const symbol = symbols && sym < symbols.count ? symbols.name(sym) ?? '' : '';
      pointers.push({ offset: table.offset(i), symbol });
    }
  }
  pointers.sort((a, b) => a.offset - b.offset);
  const init = pointers.find((p) => p.symbol === 'init_module');
  const exit = pointers.find((p) => p.symbol === 'cleanup_module');
  return { section, size: section.size, name, pointers, init, exit };
}

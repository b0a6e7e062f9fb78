// apply_relocations() (kernel/module/main.c): every REL/RELA section whose target is a placed
// (SHF_ALLOC) section is applied to a laid-out copy of that section; the first failing
// section stops the load. REL is not supported on x86_64 or arm64.

import { applyRelocateAdd } from '../arch/x86_64.js';
import { SHF_ALLOC, SHT_REL, SHT_RELA, SHT_SYMTAB } from '../elf/index.js';
import type { LoadContext } from './context.js';
import { ENOEXEC } from './errno.js';
import { KERN_ERR } from './kmsg.js';
import { MODULE_ADDRESS_HIGH, sectionImage, type Layout } from './layout.js';
import type { SymbolValues } from './simplify-symbols.js';

export interface RelocationStats {
  sections: number;
  applied: number;
  // The laid-out, relocated bytes of each section that relocations wrote to.
  images: Map<number, Uint8Array>;
}

// What the kernel meets past the bounds. Near them it reads or writes the module's own memory
// (the symbol table is followed by the string table; a section by the next one), with an
// outcome that depends on those bytes: Debian's kernels loaded kmsim_relocs_ok with a symbol
// index one past its table, and with a write just past a section 6.12 loaded it while 6.1
// found a nonzero value there and refused. Far past, both oopsed (symbol index 0xffffff,
// offset 0x7fffffff: conformance batch relocation-bounds).
function outOfBounds(ctx: LoadContext, o: { symbol?: number; offset?: bigint },
  layout: Layout): string {
  const elf = ctx.elf!;
  const tail = 'the real kernel then oopses on the fault or, if the address is mapped, goes on ' +
    'with whatever it finds there';
  if (o.symbol !== undefined) {
    const symtab = elf.sections.find((x) => x.type === SHT_SYMTAB);
    const strtab = symtab ? elf.sections[symtab.link] : undefined;
    const reach = (symtab?.size ?? 0) + (strtab?.size ?? 0);
    if ((o.symbol + 1) * 24 <= reach + 24) {
      return 'the kernel takes the bytes after the table in the module\'s memory (the string ' +
        'table) for that symbol and relocates with their value, so the outcome depends on them';
    }
    return `symbol ${o.symbol} lies ${(o.symbol + 1) * 24} bytes into a table of ` +
      `${symtab?.size ?? 0}, far past the module's memory: ${tail}`;
  }
  const size = BigInt(layout.coreSize + layout.initSize);
  if (o.offset !== undefined && o.offset < size) {
    return 'the kernel writes into the module\'s memory next to the section (refusing if the ' +
      'bytes there are not zero), so the outcome depends on the layout';
  }
  return `past the module's ${size} bytes of memory: ${tail}`;
}

// A symbol table whose size is not a multiple of 24 has floor(size / 24) entries for the kernel,
// which copies all its bytes, so a partial last entry that still holds its st_value is never
// resolved yet read by a relocation naming it: the value is the one in the file. Both Debian
// kernels loaded kmsim_relocs_ok with its table one byte short (relocation-bounds batch).
function withPartialEntry(ctx: LoadContext, values: SymbolValues): SymbolValues {
  const elf = ctx.elf!;
  const symtab = elf.sections.find((x) => x.type === SHT_SYMTAB);
  const count = values.low.length;
  if (!symtab || symtab.size % 24 < 16 || symtab.offset + symtab.size > elf.length) {
    return values;
  }
  const at = symtab.offset + count * 24 + 8;
  const low = new Uint32Array(count + 1);
  const high = new Uint32Array(count + 1);
  low.set(values.low);
  high.set(values.high);
  low[count] = elf.view.data.getUint32(at, true);
  high[count] = elf.view.data.getUint32(at + 4, true);
  ctx.find('apply_relocations', 'warning', `the symbol table is ${symtab.size} bytes, not a ` +
    `multiple of 24: the kernel counts ${count} symbols and never resolves symbol ${count}, ` +
    'though a relocation naming it reads its value as it is in the file',
    { section: symtab.name });
  return { low, high };
}

export function applyRelocations(ctx: LoadContext, layout: Layout, resolved: SymbolValues,
  keepImages = false): { err: number; stats: RelocationStats } {
  const step = 'apply_relocations';
  const elf = ctx.elf!;
  const values = withPartialEntry(ctx, resolved);
  const sections = elf.sections;
  const shnum = elf.header.shnum;
  const stats: RelocationStats = { sections: 0, applied: 0, images: new Map() };
  const data = elf.view.data;

  for (let i = 1; i < shnum; i++) {
    const s = sections[i];
    if (s.type !== SHT_REL && s.type !== SHT_RELA) continue;
    const info = s.info;
    if (info >= shnum) continue;
    const target = sections[info];
    if (!(target.flags & SHF_ALLOC) || !layout.placed[info]) continue;

    if (s.type === SHT_REL) {
      ctx.print(KERN_ERR, `module ${ctx.structModuleName}: REL relocation unsupported`);
      ctx.record(step, 'failed', `${s.name} is SHT_REL`, ENOEXEC, { section: s.name });
      return { err: ENOEXEC, stats };
    }
    if (ctx.profile.arch !== 'x86_64') {
      ctx.unknowns.push(`relocations for ${ctx.profile.arch} are not simulated`);
      ctx.record(step, 'unknown', `no ${ctx.profile.arch} relocation model`);
      return { err: 0, stats };
    }
    // The kernel reads the table without bounds checks; a table outside the file is garbage
    // to it and an error to us.
    if (s.offset + s.size > elf.length) {
      ctx.record(step, 'failed', `${s.name} lies outside the file`, ENOEXEC, { section: s.name });
      ctx.find(step, 'error', `${s.name} points past the end of the file`, { section: s.name });
      return { err: ENOEXEC, stats };
    }

    const image = stats.images.get(info) ?? sectionImage(ctx, info, !keepImages);
    const outcome = applyRelocateAdd({
      data, start: s.offset, count: Math.floor(s.size / 24), symbolLow: values.low,
      symbolHigh: values.high, moduleName: ctx.structModuleName, series: ctx.profile.series,
    }, { image, addressLow: layout.addressLow[info], addressHigh: MODULE_ADDRESS_HIGH });
    stats.sections++;
    stats.applied += outcome.applied;
    if (keepImages) stats.images.set(info, image);
    for (const l of outcome.lines) ctx.print(l.level, l.text);
    if (outcome.failedAt >= 0) {
      const where = { section: s.name, offset: s.offset + outcome.failedAt * 24 };
      if (outcome.outOfBounds) {
        const why = outOfBounds(ctx, outcome.outOfBounds, layout);
        ctx.find(step, 'error', `${outcome.problem}: ${why}`, where);
        ctx.undecide(`${s.name}: ${outcome.problem}, which the kernel does not check: ${why}`);
        ctx.record(step, 'unknown', outcome.problem, undefined, where);
        return { err: ENOEXEC, stats };
      }
      const detail = outcome.problem ?? `entry ${outcome.failedAt} of ${s.name} refused`;
      if (outcome.problem) ctx.find(step, 'error', outcome.problem, where);
      ctx.record(step, 'failed', detail, ENOEXEC, where);
      return { err: ENOEXEC, stats };
    }
  }
  ctx.record(step, 'ok', `${stats.applied} relocations in ${stats.sections} sections`);
  return { err: 0, stats };
}

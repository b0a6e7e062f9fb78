// layout_and_allocate(): module_enforce_rwx_sections(), then the placement of every SHF_ALLOC
// section at an address in module space. Placement follows layout_sections()' order (text,
// read-only, ro_after_init, writable; .init* apart), so addresses look like a real load's.
// Only the addresses matter to the simulation: they feed the relocation overflow checks.

import { SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHT_NOBITS } from '../elf/index.js';
import type { LoadContext } from './context.js';
import { ENOEXEC, ENOMEM } from './errno.js';
import { KERN_ERR } from './kmsg.js';
import { ScratchBuffer } from '../module/scratch.js';

// x86_64 MODULES_VADDR without KASLR: 0xffffffffc0000000. Every module address has the high
// half 0xffffffff, so the low half is all that varies.
export const MODULE_ADDRESS_HIGH = 0xffffffff;
const MODULES_VADDR_LOW = 0xc0000000;
const MODULES_LEN = 0x3f000000;

// A module larger than this cannot be vmalloc'ed in module space, whatever the machine.
const MAX_MODULE_BYTES = 1024 * 1024 * 1024;

export interface Layout {
  // Low half of each section's address; 0 for sections that are not placed.
  addressLow: Uint32Array;
  placed: Uint8Array;
  coreSize: number;
  initSize: number;
}

export function moduleEnforceRwxSections(ctx: LoadContext): number {
  if (!ctx.profile.config.STRICT_MODULE_RWX) return 0;
  for (const s of ctx.elf!.sections) {
    if ((s.flags & SHF_WRITE) && (s.flags & SHF_EXECINSTR)) {
      const text = `${ctx.name}: section ${s.name} (index ${s.index}) has invalid WRITE|EXEC flags`;
      ctx.print(KERN_ERR, text);
      ctx.record('module_enforce_rwx_sections', 'failed', text, ENOEXEC, { section: s.name });
      return ENOEXEC;
    }
  }
  return 0;
}

function rank(flags: number, name: string): number {
  if (flags & SHF_EXECINSTR) return 0;
  if (name === '.data..ro_after_init' || name === '__jump_table') return 2;
  if (!(flags & SHF_WRITE)) return 1;
  return 3;
}

export function layoutSections(ctx: LoadContext, slot: number): Layout | number {
  const sections = ctx.elf!.sections;
  const addressLow = new Uint32Array(sections.length);
  const placed = new Uint8Array(sections.length);
  // rewrite_section_headers() drops SHF_ALLOC from these; .data..percpu is copied apart.
  const skip = new Set(['__versions', '.modinfo', '.data..percpu']);
  const order = sections
    .filter((s) => (s.flags & SHF_ALLOC) && !skip.has(s.name))
    .sort((a, b) => rank(a.flags, a.name) - rank(b.flags, b.name) || a.index - b.index);
  let core = 0;
  let init = 0;
  for (const s of order) {
    const align = Math.max(1, Math.min(s.addralign || 1, 4096));
    const isInit = s.name.startsWith('.init');
    let at = isInit ? init : core;
    at = Math.ceil(at / align) * align;
    addressLow[s.index] = at;
    placed[s.index] = 1;
    at += s.size;
    if (isInit) init = at;
    else core = at;
    if (core + init > MAX_MODULE_BYTES) {
      ctx.record('move_module', 'failed', `the module needs ${core + init} bytes of module ` +
        'memory, more than module space holds', ENOMEM, { section: s.name });
      ctx.find('move_module', 'error', `section ${s.name} is ${s.size} bytes: module_alloc ` +
        'would fail', { section: s.name });
      return ENOMEM;
    }
  }
  // Core and init regions of this load, kept apart from other loads' by `slot`.
  const base = MODULES_VADDR_LOW + ((slot * 0x200000) % (MODULES_LEN - 2 * MAX_MODULE_BYTES / 4));
  const initBase = base + Math.ceil(core / 4096) * 4096 + 4096;
  for (const s of order) {
    const isInit = s.name.startsWith('.init');
    addressLow[s.index] = ((isInit ? initBase : base) + addressLow[s.index]) >>> 0;
  }
  ctx.record('layout_and_allocate', 'ok', `${core} bytes core, ${init} bytes init`);
  return { addressLow, placed, coreSize: core, initSize: init };
}

// Section images needed only while their relocations are applied share one buffer per thread.
const scratch = new ScratchBuffer();

// The bytes of a placed section as move_module() copies them: contents for PROGBITS, zeros for
// NOBITS. Made only for sections that relocations write to. A `transient` image lives in the
// thread's scratch buffer and is valid until the next transient image is made.
export function sectionImage(ctx: LoadContext, index: number, transient = false): Uint8Array {
  const s = ctx.elf!.sections[index];
  if (!transient) {
    if (s.type === SHT_NOBITS) return new Uint8Array(s.size);
    return ctx.elf!.bytes.slice(s.offset, s.offset + s.size);
  }
  // The contents as slice() would copy them: cut short where the file ends.
  const contents = s.type === SHT_NOBITS ? undefined
    : ctx.elf!.bytes.subarray(s.offset, s.offset + s.size);
  const image = scratch.take(contents ? contents.length : s.size);
  if (contents) image.set(contents);
  else image.fill(0);
  return image;
}

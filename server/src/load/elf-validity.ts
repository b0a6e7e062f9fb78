// ELF validation as the kernel does it, on the raw header fields, before any other decoding.
// 6.1: elf_validity_check() then setup_load_info(); 6.12: the elf_validity_cache_*() family.
// Every failure is ENOEXEC with the kernel's own message. The checks read the file as
// 64-bit little-endian whatever e_ident says, because the kernel does (EI_CLASS and EI_DATA
// are not checked on x86_64 or arm64).

import {
  ElfFile, EM_AARCH64, EM_X86_64, ET_REL, SHF_ALLOC, SHT_NOBITS, SHT_NULL, SHT_STRTAB,
  SHT_SYMTAB, type SectionHeader,
} from '../elf/index.js';
import { ModuleImage } from '../module/image.js';
import type { LoadContext } from './context.js';
import { ENOEXEC } from './errno.js';
import { KERN_ERR, KERN_WARNING } from './kmsg.js';

const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
const NO_NAME = '(missing .modinfo section or name field)';

function fail(ctx: LoadContext, step: string, text: string, level = KERN_ERR, where?: object) {
  ctx.print(level, text);
  ctx.record(step, 'failed', text, ENOEXEC, where);
  return ENOEXEC;
}

function machineOf(ctx: LoadContext): number {
  return ctx.profile.arch === 'x86_64' ? EM_X86_64 : EM_AARCH64;
}

// Header checks shared by both series: length, magic, type, machine.
function checkEhdr(ctx: LoadContext, step: string): number {
  const b = ctx.bytes;
  if (ctx.len < EHDR_SIZE) return fail(ctx, step, `Invalid ELF header len ${ctx.len}`);
  if (b[0] !== 0x7f || b[1] !== 0x45 || b[2] !== 0x4c || b[3] !== 0x46) {
    return fail(ctx, step, 'Invalid ELF header magic: != \x7fELF');
  }
  const view = new DataView(b.buffer, b.byteOffset, ctx.len);
  const type = view.getUint16(16, true);
  if (type !== ET_REL) return fail(ctx, step, `Invalid ELF header type: ${type} != ${ET_REL}`);
  const machine = view.getUint16(18, true);
  if (machine !== machineOf(ctx)) {
    return fail(ctx, step, `Invalid architecture in ELF header: ${machine}`);
  }
  return 0;
}

interface RawTable {
  elf: ElfFile;
  sections: SectionHeader[];
  shnum: number;
  shstrndx: number;
}

// Section table bounds: e_shentsize, then e_shoff/e_shnum against the (signature-less) length.
function checkSectionTable(ctx: LoadContext, step: string): RawTable | number {
  const view = new DataView(ctx.bytes.buffer, ctx.bytes.byteOffset, ctx.len);
  const shentsize = view.getUint16(58, true);
  if (shentsize !== SHDR_SIZE) return fail(ctx, step, 'Invalid ELF section header size');
  const shoff = view.getUint32(40, true) + view.getUint32(44, true) * 0x100000000;
  const shnum = view.getUint16(60, true);
  if (shoff >= ctx.len || shnum * SHDR_SIZE > ctx.len - shoff) {
    return fail(ctx, step, 'Invalid ELF section header overflow');
  }
  const elf = ElfFile.open(ctx.bytes.subarray(0, ctx.len),
    { forceClass: 64, forceLittleEndian: true });
  // The decoder reads e_shoff 0 as "no table" and e_shnum 0 as extended numbering; the kernel
  // reads both literally. Such a table always fails the checks (section 0 would lie over the
  // ELF header, or e_shnum is 0), so reading its headers for the checks is enough.
  if (shoff === 0 || shnum === 0) {
    return { elf, sections: literalSections(view, shoff, Math.max(shnum, 1), ctx.len), shnum,
      shstrndx: view.getUint16(62, true) };
  }
  // The kernel takes e_shnum and e_shstrndx literally: no extended numbering.
  elf.header.rawShnum = elf.header.shnum = shnum;
  elf.header.shstrndx = elf.header.rawShstrndx;
  return { elf, sections: elf.sections, shnum, shstrndx: elf.header.rawShstrndx };
}

function literalSections(view: DataView, shoff: number, count: number, len: number) {
  const u64 = (at: number) => view.getUint32(at, true) + view.getUint32(at + 4, true) * 2 ** 32;
  const out: SectionHeader[] = [];
  for (let i = 0; i < count && shoff + (i + 1) * SHDR_SIZE <= len; i++) {
    const at = shoff + i * SHDR_SIZE;
    out.push({ index: i, nameOffset: view.getUint32(at, true), name: '',
      type: view.getUint32(at + 4, true), flags: view.getUint32(at + 8, true), addr: u64(at + 16),
      offset: u64(at + 24), size: u64(at + 32), link: view.getUint32(at + 40, true),
      info: view.getUint32(at + 44, true), addralign: u64(at + 48), entsize: u64(at + 56),
      headerOffset: at });
  }
  return out;
}

// validate_section_offset(): the contents lie inside the file and the end does not wrap.
function contentsFit(ctx: LoadContext, s: SectionHeader): boolean {
  const end = s.offset + s.size;
  return end >= s.offset && end <= ctx.len && end <= Number.MAX_SAFE_INTEGER;
}

function strtabTerminated(ctx: LoadContext, s: SectionHeader): boolean {
  return s.size > 0 && ctx.bytes[s.offset + s.size - 1] === 0;
}

// Section 0 must be the null section: SHT_NULL, no size, no address.
function checkSection0(ctx: LoadContext, step: string, s0: SectionHeader | undefined): number {
  if (!s0) {
    // e_shnum is 0 and e_shoff is within 64 bytes of the end: the kernel reads section 0 past
    // the file, from memory whose contents a simulation cannot know.
    ctx.unknowns.push('section 0 lies past the end of the file; assumed to be a null section');
    return 0;
  }
  if (s0.type === SHT_NULL && s0.size === 0 && s0.addr === 0) return 0;
  // Printed with %d: a type of 2^31 or more comes out negative.
  return fail(ctx, step, `ELF Spec violation: section 0 type(${s0.type | 0})!=SH_NULL or ` +
    'non-zero len or addr');
}

// The part of elf_validity_check() that 6.1 and 6.12 share: the section name table, section 0,
// then one loop over the sections (symtab links, contents in the file, names of allocated
// sections). `each` sees every section the loop checks, for 6.12's counting.
function checkSections(ctx: LoadContext, step: string, t: RawTable,
  each?: (s: SectionHeader) => void): number {
  const { sections, shnum, shstrndx } = t;
  if (shstrndx === 0 || shstrndx >= shnum) {
    return fail(ctx, step, `Invalid ELF section name index: ${shstrndx} || ` +
      `e_shstrndx (${shstrndx}) >= e_shnum (${shnum})`);
  }
  const strhdr = sections[shstrndx];
  if (!contentsFit(ctx, strhdr)) {
    return fail(ctx, step, `Invalid ELF section hdr(type ${strhdr.type})`);
  }
  if (strhdr.size === 0) return fail(ctx, step, 'empty section name table');
  if (!strtabTerminated(ctx, strhdr)) {
    return fail(ctx, step, "ELF Spec violation: section name table isn't null terminated");
  }
  const e0 = checkSection0(ctx, step, sections[0]);
  if (e0) return e0;
  for (let i = 1; i < shnum; i++) {
    const s = sections[i];
    if (s.type === SHT_NULL || s.type === SHT_NOBITS) continue;
    if (s.type === SHT_SYMTAB && (s.link === 0 || s.link >= shnum)) {
      return fail(ctx, step, `Invalid ELF sh_link!=SHN_UNDEF(${s.link | 0}) or ` +
        `(sh_link(${s.link | 0}) >= hdr->e_shnum(${shnum})`);
    }
    if (!contentsFit(ctx, s)) {
      return fail(ctx, step, `Invalid ELF section in module (section ${i} type ${s.type})`,
        KERN_ERR, { section: s.name });
    }
    each?.(s);
    if ((s.flags & SHF_ALLOC) && s.nameOffset >= strhdr.size) {
      return fail(ctx, step, `Invalid ELF section name in module (section ${i} type ${s.type})`);
    }
  }
  return 0;
}

// 6.1: elf_validity_check() and setup_load_info().
export function elfValidityCheck61(ctx: LoadContext): number {
  const step = 'elf_validity_check';
  const e = checkEhdr(ctx, step);
  if (e) return e;
  const t = checkSectionTable(ctx, step);
  if (typeof t === 'number') return t;
  const err = checkSections(ctx, step, t);
  if (err) return err;
  ctx.record(step, 'ok');
  return setupLoadInfo61(ctx, t);
}

// 6.12 before the elf_validity_cache_*() split: 6.1's elf_validity_check() whose section loop
// also counts the sections named .modinfo and .gnu.linkonce.this_module (NOBITS ones are
// skipped, so a NOBITS this_module counts as none), checked after the loop in this order.
function elfValidityCheck612(ctx: LoadContext): number {
  const step = 'elf_validity_check';
  const e = checkEhdr(ctx, step);
  if (e) return e;
  const t = checkSectionTable(ctx, step);
  if (typeof t === 'number') return t;
  const modinfos: SectionHeader[] = [];
  const mods: SectionHeader[] = [];
  const symtabs: SectionHeader[] = [];
  const err = checkSections(ctx, step, t, (s) => {
    if (s.type === SHT_SYMTAB) symtabs.push(s);
    if (s.name === '.gnu.linkonce.this_module') mods.push(s);
    else if (s.name === '.modinfo') modinfos.push(s);
  });
  if (err) return err;

  const image = new ModuleImage(t.elf);
  ctx.elf = t.elf;
  ctx.image = image;
  if (modinfos.length > 1) return fail(ctx, step, 'Only one .modinfo section must exist.');
  image.useModinfoSection(modinfos[0]);
  ctx.name = modinfos.length ? image.modinfo.get('name') : undefined;
  const who = ctx.name ?? NO_NAME;
  if (symtabs.length !== 1) {
    return fail(ctx, step, `${who}: module has no symbols (stripped?)`, KERN_WARNING);
  }
  if (mods.length !== 1) {
    return fail(ctx, step, `module ${who}: Only one .gnu.linkonce.this_module section must ` +
      'exist.');
  }
  const mod = mods[0];
  if (!(mod.flags & SHF_ALLOC)) {
    return fail(ctx, step, `module ${who}: .gnu.linkonce.this_module must occupy memory ` +
      'during process execution');
  }
  if (mod.size !== ctx.profile.structModuleSize) {
    return thisModuleSizeMismatch(ctx, step, mod, who);
  }
  if (!ctx.name) ctx.name = image.thisModule?.name ?? '';
  ctx.useVersions = !!image.allocSection('__versions');
  ctx.record(step, 'ok');
  return 0;
}

function thisModuleSizeMismatch(ctx: LoadContext, step: string, mod: SectionHeader,
  who: string): number {
  ctx.find(step, 'error', `.gnu.linkonce.this_module is ${mod.size} bytes (0x` +
    `${mod.size.toString(16)}); this kernel's struct module is ` +
    `${ctx.profile.structModuleSize} (0x${ctx.profile.structModuleSize.toString(16)}): ` +
    'the module was built against another kernel series or configuration',
  { section: '.gnu.linkonce.this_module' });
  return fail(ctx, step, `module ${who}: .gnu.linkonce.this_module section size must match ` +
    "the kernel's built struct module size at run time");
}

// 6.1 setup_load_info(): .modinfo and this_module found by find_sec (SHF_ALLOC, first match),
// the first symbol table wins.
function setupLoadInfo61(ctx: LoadContext, t: RawTable): number {
  const step = 'setup_load_info';
  const image = new ModuleImage(t.elf);
  ctx.elf = t.elf;
  ctx.image = image;
  const modinfo = image.allocSection('.modinfo');
  image.useModinfoSection(modinfo);
  ctx.name = modinfo ? image.modinfo.get('name') : undefined;
  const symtab = t.sections.find((s) => s.type === SHT_SYMTAB);
  if (!symtab) {
    return fail(ctx, step, `${ctx.name ?? NO_NAME}: module has no symbols (stripped?)`,
      KERN_WARNING);
  }
  const mod = image.allocSection('.gnu.linkonce.this_module');
  if (!mod) return fail(ctx, step, `${ctx.name ?? NO_NAME}: No module found in object`,
    KERN_WARNING);
  if (mod.type === SHT_NOBITS) {
    // 6.1 checks nothing more here; its struct module then lives in zeroed memory and the real
    // 6.1.0-57 oopses in add_kallsyms() (conformance case elf-this_module-nobits).
    const text = '.gnu.linkonce.this_module is NOBITS: Debian 6.1 accepts it here and then ' +
      'oopses in add_kallsyms(), so the simulated verdict is not what the kernel does';
    ctx.find(step, 'error', text, { section: '.gnu.linkonce.this_module' });
    ctx.unknowns.push(text);
  }
  if (!ctx.name) ctx.name = image.thisModule?.name ?? '';
  ctx.useVersions = !!image.allocSection('__versions');
  ctx.record(step, 'ok');
  return 0;
}

// 6.12: elf_validity_cache_copy() and the checks it calls, in their order. Debian's 6.12.107
// still has the single elf_validity_check() (the real kernel accepts a PROGBITS section name
// table and names a NOBITS this_module "Only one"); the profile rule that picks the message
// tells the two apart.
export function elfValidityCacheCopy612(ctx: LoadContext): number {
  if (ctx.profile.rules.thisModuleCountMessage === 'only-one') return elfValidityCheck612(ctx);
  const step = 'elf_validity_cache_copy';
  const e = checkEhdr(ctx, step);
  if (e) return e;
  const t = checkSectionTable(ctx, step);
  if (typeof t === 'number') return t;
  const { sections, shnum, shstrndx } = t;
  const e0 = checkSection0(ctx, step, sections[0]);
  if (e0) return e0;
  for (let i = 1; i < shnum; i++) {
    const s = sections[i];
    if (s.type === SHT_NULL || s.type === SHT_NOBITS) continue;
    if (!contentsFit(ctx, s)) {
      return fail(ctx, step, `Invalid ELF section in module (section ${i} type ${s.type})`,
        KERN_ERR, { section: s.name });
    }
  }

  if (shstrndx === 0 || shstrndx >= shnum) {
    return fail(ctx, step, `Invalid ELF section name index: ${shstrndx} || ` +
      `e_shstrndx (${shstrndx}) >= e_shnum (${shnum})`);
  }
  const strhdr = sections[shstrndx];
  if (strhdr.type !== SHT_STRTAB) {
    return fail(ctx, step, `Invalid ELF section name table type: ${strhdr.type}`);
  }
  if (strhdr.size === 0) return fail(ctx, step, 'empty section name table');
  if (!strtabTerminated(ctx, strhdr)) {
    return fail(ctx, step, "ELF Spec violation: section name table isn't null terminated");
  }
  for (let i = 0; i < shnum; i++) {
    const s = sections[i];
    if (s.type === SHT_NULL) continue;
    if (s.nameOffset >= strhdr.size) {
      return fail(ctx, step, `Invalid ELF section name in module (section ${i} type ${s.type})`);
    }
  }

  const image = new ModuleImage(t.elf);
  ctx.elf = t.elf;
  ctx.image = image;
  const modinfos = sections.filter((s) => s.name === '.modinfo');
  if (modinfos.length > 1) return fail(ctx, step, 'Only one .modinfo section must exist.');
  image.useModinfoSection(modinfos[0]);
  ctx.name = modinfos.length ? image.modinfo.get('name') : undefined;

  const who = ctx.name ?? NO_NAME;
  const mods = sections.filter((s) => s.name === '.gnu.linkonce.this_module');
  if (mods.length !== 1) {
    return fail(ctx, step,
      `module ${who}: Exactly one .gnu.linkonce.this_module section must exist.`);
  }
  const mod = mods[0];
  if (mod.type === SHT_NOBITS) {
    return fail(ctx, step, `module ${who}: .gnu.linkonce.this_module section must have a ` +
      'size set');
  }
  if (!(mod.flags & SHF_ALLOC)) {
    return fail(ctx, step, `module ${who}: .gnu.linkonce.this_module must occupy memory ` +
      'during process execution');
  }
  if (mod.size !== ctx.profile.structModuleSize) {
    return thisModuleSizeMismatch(ctx, step, mod, who);
  }

  const symtabs = sections.filter((s) => s.type === SHT_SYMTAB);
  if (symtabs.length !== 1) {
    return fail(ctx, step, `${who}: module has no symbols (stripped?)`, KERN_WARNING);
  }
  const symtab = symtabs[0];
  if (symtab.link === 0 || symtab.link >= shnum) {
    return fail(ctx, step, `Invalid ELF sh_link!=SHN_UNDEF(${symtab.link | 0}) or ` +
      `(sh_link(${symtab.link | 0}) >= hdr->e_shnum(${shnum})`);
  }
  if (sections[symtab.link].type !== SHT_STRTAB) {
    return fail(ctx, step,
      `Invalid ELF symbol string table type: ${sections[symtab.link].type}`);
  }
  if (!ctx.name) ctx.name = image.thisModule?.name ?? '';
  ctx.useVersions = !!image.allocSection('__versions');
  ctx.record(step, 'ok');
  return 0;
}

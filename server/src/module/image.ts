// ModuleImage: the kernel-module view of an ELF file. Each part is decoded the first time it
// is asked for, so a load that stops at vermagic never decodes relocations or parameters.

import { ElfFile, SHF_ALLOC, type OpenOptions, type SectionHeader } from '../elf/index.js';
import { readExports, type ExportedSymbol } from './ksymtab.js';
import { Modinfo, readModinfo } from './modinfo.js';
import { readParams, type ModuleParam } from './params.js';
import { RelocatedView } from './pointers.js';
import { readThisModule, type ThisModule } from './this-module.js';
import {
  readExtendedVersions, readVersions, type ExtendedVersions, type Versions,
} from './versions.js';

// Decoded parts by ELF file: two views of one decoded file (`kmodsim check`'s dependency scan
// and the load it hands the file to) decode each part once.
const decoded = new WeakMap<ElfFile, Map<string, unknown>>();

export class ModuleImage {
  readonly elf: ElfFile;
  readonly relocated: RelocatedView;
  private cache: Map<string, unknown>;

  constructor(elf: ElfFile) {
    this.elf = elf;
    this.relocated = new RelocatedView(elf);
    let cache = decoded.get(elf);
    if (!cache) decoded.set(elf, cache = new Map());
    this.cache = cache;
  }

  static open(bytes: Uint8Array, opts?: OpenOptions): ModuleImage {
    return new ModuleImage(ElfFile.open(bytes, opts));
  }

  private once<T>(key: string, make: () => T): T {
    if (!this.cache.has(key)) this.cache.set(key, make());
    return this.cache.get(key) as T;
  }

  // The first section of this name that has SHF_ALLOC: the kernel's find_sec().
  allocSection(name: string): SectionHeader | undefined {
    return this.elf.sections.find((s) => (s.flags & SHF_ALLOC) !== 0 && s.name === name);
  }

  // The kernel reads .modinfo from the section its ELF checks picked (find_sec on 6.1, the one
  // section of that name on 6.12), not necessarily the first of that name.
  useModinfoSection(section: SectionHeader | undefined) {
    this.cache.set('modinfo', readModinfo(this.elf, section));
  }

  get modinfo(): Modinfo {
    return this.once('modinfo', () => readModinfo(this.elf, this.elf.section('.modinfo')));
  }

  get versions(): Versions | undefined {
    return this.once('versions', () => readVersions(this.elf, this.elf.section('__versions')));
  }

  get extendedVersions(): ExtendedVersions | undefined {
    return this.once('extversions', () => readExtendedVersions(this.elf));
  }

  get thisModule(): ThisModule | undefined {
    return this.once('thismodule', () => readThisModule(this.elf,
      this.elf.section('.gnu.linkonce.this_module'), this.relocated));
  }

  get exports(): ExportedSymbol[] {
    return this.once('exports', () => readExports(this.elf, this.relocated));
  }

  get params(): ModuleParam[] {
    return this.once('params', () => readParams(this.elf, this.elf.section('__param'),
      this.relocated, this.modinfo));
  }

  // The module's name as modpost recorded it, else as struct module has it.
  get name(): string {
    return this.modinfo.get('name') ?? this.thisModule?.name ?? '';
  }
}

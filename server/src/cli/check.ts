// `kmodsim check`: every module of a set, each loaded into a fresh boot of the target kernel
// as modprobe would load it, its dependencies from the kernel's tree already in place (taken
// from the profile's exports, as depmod resolves them, not simulated themselves).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { ELFCLASS64, ELFDATA2LSB, ElfFile, SHN_UNDEF, SHN_XINDEX } from '../elf/index.js';
import type { KernelProfile } from '../kernel/profile.js';
import { SimulatedKernel, type SyscallResult } from '../load/kernel.js';
import type { LoadedExport } from '../load/state.js';
import { decompressModule, detectCompression } from '../module/decompress.js';
import { ScratchBuffer } from '../module/scratch.js';
import { ModuleImage } from '../module/image.js';
import { signedElfLength } from '../module/signature.js';
import { fileErrorText, insmod, type InsmodOptions } from './insmod.js';

const MODULE_FILE = /\.ko(\.(xz|gz|zst))?$/;

export function findModules(paths: string[]): string[] {
  const out: string[] = [];
  // Entry types come with the directory listing (as lstat would give them): no stat per file.
  const walkDir = (dir: string, depth: number) => {
    const entries = fs.readdirSync(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const child = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (depth + 1 < 32) walkDir(child, depth + 1);
      } else if (e.isFile() && MODULE_FILE.test(e.name)) out.push(child);
    }
  };
  // A path named on the command line is always checked or reported, whatever it is: a
  // missing one or a device is said so by the reader, in its turn.
  for (const p of paths) {
    const st = fs.statSync(p, { throwIfNoEntry: false });
    if (st?.isDirectory()) walkDir(p, 0);
    else out.push(p);
  }
  return out;
}

const moduleNames = new Map<string, string>();

// Module name as the kernel has it: the file's base name with '-' as '_'.
export function moduleNameOf(owner: string): string {
  let name = moduleNames.get(owner);
  if (name === undefined) {
    name = path.basename(owner).replace(/\.ko(\.\w+)?$/, '').replace(/-/g, '_');
    moduleNames.set(owner, name);
  }
  return name;
}

const providersCache = new WeakMap<KernelProfile, Map<string, Map<string, LoadedExport>>>();

function providersOf(profile: KernelProfile): Map<string, Map<string, LoadedExport>> {
  let map = providersCache.get(profile);
  if (map) return map;
  map = new Map();
  for (const [name, e] of profile.exports) {
    if (e.owner === 'vmlinux') continue;
    const owner = moduleNameOf(e.owner);
    let exports = map.get(owner);
    if (!exports) map.set(owner, exports = new Map());
    exports.set(name, { crc: e.crc, gplOnly: e.gplOnly, namespace: e.namespace });
  }
  providersCache.set(profile, map);
  return map;
}

// Puts in place, as loaded, every tree module that exports a symbol this module needs.
// `elfBytes` is the module as the kernel will parse it (decompressed). Returns the decoded
// file when it is a plain little-endian ELF64, which the load may take over (ElfFile.handOver).
function putDependencies(kernel: SimulatedKernel, elfBytes: Uint8Array): ElfFile | undefined {
  const profile = kernel.profile;
  const providers = providersOf(profile);
  const bare = elfBytes.subarray(0, signedElfLength(elfBytes));
  // e_ident[EI_CLASS] and e_ident[EI_DATA]: read natively, the file is what the kernel reads.
  const native = bare.length > 6 && bare[4] === ELFCLASS64 && bare[5] === ELFDATA2LSB;
  let image: ModuleImage;
  try {
    image = native ? ModuleImage.open(bare, { forceClass: 64, forceLittleEndian: true })
      : ModuleImage.open(bare);
    const symbols = image.elf.symbols;
    if (!symbols) return undefined;
    const self = image.name;
    for (let i = 1; i < symbols.count; i++) {
      if (symbols.rawShndx[i] !== SHN_UNDEF) continue;
      const e = profile.exports.get(symbols.name(i) ?? '');
      if (!e || e.owner === 'vmlinux') continue;
      const owner = moduleNameOf(e.owner);
      const exports = owner === self ? undefined : providers.get(owner);
      if (exports) kernel.assumeLoaded(owner, exports);
    }
  } catch {
    return undefined;
  }
  const h = image.elf.header;
  return native && h.rawShnum !== 0 && h.rawShstrndx !== SHN_XINDEX ? image.elf : undefined;
}

export interface CheckOptions extends InsmodOptions {
  params?: string;
  bootArgs?: string;
  withDependencies?: boolean;
}

// One module, given as the bytes of its file, into a fresh boot of the profile's kernel.
// `into`, when given, takes the decompressed module, valid until the next check with it.
export function checkBytes(profile: KernelProfile, bytes: Uint8Array, opts: CheckOptions,
  into?: ScratchBuffer): SyscallResult {
  const kernel = SimulatedKernel.boot(profile, opts.bootArgs ?? '');
  return insmodWithDependencies(kernel, bytes, opts.params ?? '', opts, undefined, into);
}

// insmod of the module file `bytes` (compressed or not) with the tree modules it depends on
// put in place first, then whatever `alsoLoaded` adds (the editor's workspace modules). The
// file is decompressed once, and the decoding the dependency scan did is handed to the load.
export function insmodWithDependencies(kernel: SimulatedKernel, bytes: Uint8Array,
  params: string, opts: CheckOptions, alsoLoaded?: () => void, into?: ScratchBuffer):
  SyscallResult {
  const kind = detectCompression(bytes);
  const unpacked = kind === 'none' ? undefined : decompressModule(bytes, kind, { into });
  try {
    if (opts.withDependencies !== false && (!unpacked || unpacked.ok)) {
      ElfFile.handOver(putDependencies(kernel, unpacked?.ok ? unpacked.bytes : bytes));
    }
    alsoLoaded?.();
    return insmod(kernel, bytes, params, opts, unpacked);
  } finally {
    ElfFile.handOver(undefined);
  }
}

export function checkOne(profile: KernelProfile, file: string, opts: CheckOptions):
  SyscallResult {
  return checkBytes(profile, fs.readFileSync(file), opts);
}

// Reads whole files into a thread's scratch buffer; the bytes are valid until the next read.
export class FileReader {
  private readonly buffer = new ScratchBuffer();
  // The same for what a compressed file decodes to.
  readonly decoded = new ScratchBuffer();

  read(file: string): Uint8Array {
    // O_NONBLOCK: a named pipe opens at once instead of waiting for a writer, and is refused.
    let fd: number;
    try {
      fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw Object.assign(new Error(`${file}: ${fileErrorText(err)}`), { code: err.code });
    }
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) {
        throw Object.assign(new Error(`${file}: ${st.isDirectory() ? 'a directory'
          : st.isFIFO() ? 'a named pipe' : st.isSocket() ? 'a socket' : 'a device'}, not a ` +
          'regular file'), { code: st.isDirectory() ? 'EISDIR' : 'EINVAL' });
      }
      const size = st.size;
      // kernel_read_file() would refuse it (EFBIG) without reading; so does kmodsim here.
      if (size > 0x7fffffff) {
        throw Object.assign(new Error(`${file}: ${size} bytes, more than finit_module() ` +
          'reads (INT_MAX): the kernel refuses it with EFBIG'), { code: 'EFBIG' });
      }
      const buffer = this.buffer.take(size);
      let got = 0;
      while (got < size) {
        const n = fs.readSync(fd, buffer, got, size - got, got);
        if (n === 0) break;
        got += n;
      }
      return buffer.subarray(0, got);
    } finally {
      fs.closeSync(fd);
    }
  }
}

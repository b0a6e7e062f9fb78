// What insmod (kmod 30, Debian bookworm) hands to the kernel. An uncompressed file goes to
// finit_module() with the force flags. A compressed one is decompressed in user space and goes
// to init_module(), which has no flags: forcing then edits the image instead, clearing SHF_ALLOC
// on __versions (so the kernel finds none) and blanking vermagic=, which also breaks a
// signature by a trusted key.

import { ElfFile } from '../elf/index.js';
import type { SyscallResult } from '../load/kernel.js';
import type { SimulatedKernel } from '../load/kernel.js';
import { MODULE_INIT_IGNORE_MODVERSIONS, MODULE_INIT_IGNORE_VERMAGIC } from '../load/context.js';
import { decompressModule, detectCompression } from '../module/decompress.js';
import { ModuleImage } from '../module/image.js';
import { readModuleSignature } from '../module/signature.js';

export interface InsmodOptions {
  forceVermagic?: boolean;
  forceModversion?: boolean;
}

// `unpacked`: the file already decompressed by the caller, so it is not done twice.
export function insmod(kernel: SimulatedKernel, file: Uint8Array, params: string,
  opts: InsmodOptions, unpacked?: ReturnType<typeof decompressModule>): SyscallResult {
  const flags = (opts.forceModversion ? MODULE_INIT_IGNORE_MODVERSIONS : 0)
    | (opts.forceVermagic ? MODULE_INIT_IGNORE_VERMAGIC : 0);
  const kind = detectCompression(file);
  if (kind === 'none') return kernel.finitModule(file, params, flags);
  const r = unpacked ?? decompressModule(file, kind);
  if (!r.ok) {
    const result = kernel.finitModule(new Uint8Array(0), params, 0);
    result.findings.push({ step: 'insmod', severity: 'error',
      message: `cannot decompress the ${kind} file: ${r.error.what}` });
    return result;
  }
  const image = flags ? forceEdits(r.bytes, opts) : r.bytes;
  return kernel.initModule(image, params);
}

function forceEdits(bytes: Uint8Array, opts: InsmodOptions): Uint8Array {
  const copy = bytes.slice();
  const sig = readModuleSignature(copy);
  const elfBytes = copy.subarray(0, sig.present ? sig.elfLength : copy.length);
  let elf: ElfFile;
  try {
    elf = ElfFile.open(elfBytes);
  } catch {
    return copy;
  }
  if (opts.forceModversion) {
    const vers = elf.section('__versions');
    if (vers) {
      const flagsAt = vers.headerOffset + (elf.is64 ? 8 : 8);
      elf.view.data.setUint32(flagsAt, vers.flags & ~2, elf.view.little);
    }
  }
  if (opts.forceVermagic) {
    const entry = new ModuleImage(elf).modinfo.entries.find((e) => e.key === 'vermagic');
    if (entry) copy.fill(0, entry.offset, entry.offset + entry.length);
  }
  return copy;
}

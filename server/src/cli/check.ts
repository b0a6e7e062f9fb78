// `kmodsim check`: every module of a set, each loaded into a fresh boot of the target kernel
// as modprobe would load it, its dependencies from the kernel's tree already in place (taken
// from the profile's exports, as depmod resolves them, not simulated themselves).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { SHN_UNDEF } from '../elf/index.js';
import type { KernelProfile } from '../kernel/profile.js';
import { SimulatedKernel, type SyscallResult } from '../load/kernel.js';
import type { LoadedExport } from '../load/state.js';
import { decompressModule, detectCompression } from '../module/decompress.js';
import { ModuleImage } from '../module/image.js';
import { readModuleSignature } from '../module/signature.js';
import { insmod, type InsmodOptions } from './insmod.js';

const MODULE_FILE = /\.ko(\.(xz|gz|zst))?$/;

export function findModules(paths: string[]): string[] {
  const out: string[] = [];
  const walk = (p: string, depth: number) => {
    const st = fs.lstatSync(p, { throwIfNoEntry: false });
    if (!st) throw new Error(`${p}: no such file or directory`);
    if (st.isDirectory() && depth < 32) {
      for (const e of fs.readdirSync(p).sort()) {
        const child = path.join(p, e);
        const cst = fs.lstatSync(child, { throwIfNoEntry: false });
        if (cst?.isDirectory()) walk(child, depth + 1);
        else if (cst?.isFile() && MODULE_FILE.test(e)) out.push(child);
      }
    } else if (st.isFile()) {
      out.push(p);
    }
  };
  for (const p of paths) walk(p, 0);
  return out;
}

// Module name as the kernel has it: the file's base name with '-' as '_'.
export function moduleNameOf(owner: string): string {
  return path.basename(owner).replace(/\.ko(\.\w+)?$/, '').replace(/-/g, '_');
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

// Puts in place, as loaded, every tree module that exports a symbol this module needs, and
// theirs in turn.
export function assumeDependencies(kernel: SimulatedKernel, bytes: Uint8Array) {
  const profile = kernel.profile;
  const providers = providersOf(profile);
  let elfBytes = bytes;
  if (detectCompression(bytes) !== 'none') {
    const r = decompressModule(bytes, detectCompression(bytes));
    if (!r.ok) return;
    elfBytes = r.bytes;
  }
  const sig = readModuleSignature(elfBytes);
  let image: ModuleImage;
  try {
    image = ModuleImage.open(sig.present ? elfBytes.subarray(0, sig.elfLength) : elfBytes);
  } catch {
    return;
  }
  const symbols = image.elf.symbols;
  if (!symbols) return;
  const self = image.name;
  const wanted: string[] = [];
  for (let i = 1; i < symbols.count; i++) {
    if (symbols.rawShndx[i] !== SHN_UNDEF) continue;
    const e = profile.exports.get(symbols.name(i) ?? '');
    if (e && e.owner !== 'vmlinux') wanted.push(moduleNameOf(e.owner));
  }
  for (const owner of wanted) {
    if (owner === self) continue;
    const exports = providers.get(owner);
    if (exports) kernel.assumeLoaded(owner, exports);
  }
}

export interface CheckOptions extends InsmodOptions {
  params?: string;
  bootArgs?: string;
  withDependencies?: boolean;
}

export function checkOne(profile: KernelProfile, file: string, opts: CheckOptions):
  SyscallResult {
  const kernel = SimulatedKernel.boot(profile, opts.bootArgs ?? '');
  const bytes = new Uint8Array(fs.readFileSync(file));
  if (opts.withDependencies !== false) assumeDependencies(kernel, bytes);
  return insmod(kernel, bytes, opts.params ?? '', opts);
}

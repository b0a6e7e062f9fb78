// One module's simulated load for the editor: the file read once, its image decoded for the
// parameters and exports the editor shows, and the load run in a fresh boot of the target
// with the modules it needs in place, as modprobe would have loaded them: the target tree's
// (from its Module.symvers) and the workspace's own (from their __ksymtab).

import * as fs from 'node:fs';
import { insmodWithDependencies, moduleNameOf } from '../cli/check.js';
import { SHN_UNDEF } from '../elf/index.js';
import type { KernelProfile } from '../kernel/profile.js';
import { SimulatedKernel, type SyscallResult } from '../load/kernel.js';
import type { LoadedExport } from '../load/state.js';
import { decompressModule, detectCompression } from '../module/decompress.js';
import { ModuleImage } from '../module/image.js';
import type { ExportedSymbol } from '../module/ksymtab.js';
import type { ModuleParam } from '../module/params.js';
import { readModuleSignature } from '../module/signature.js';
import { formatParamDefaults, mergeParams, PARAM_BLOCK_HEADER } from '../report/modinfo.js';

// What the editor knows about one built module without loading it. Only what is derived is
// kept, not the file's bytes: a kernel tree's modules are hundreds of megabytes.
export interface ModuleFacts {
  file: string;
  // Why the image could not be decoded, when it could not.
  decodeError?: string;
  name: string;
  description?: string;
  params: ModuleParam[];
  // Parameter names in the order `modinfo` lists them.
  paramOrder: string[];
  // Each parameter's line of `kmodsim modinfo`'s block, spaces squeezed.
  defaultsLines: Map<string, string>;
  exports: ExportedSymbol[];
  undefinedSymbols: string[];
}

export function readFacts(file: string, raw?: Uint8Array): ModuleFacts {
  const bytes = raw ?? new Uint8Array(fs.readFileSync(file));
  const facts: ModuleFacts = { file, name: moduleNameOf(file), params: [], paramOrder: [],
    defaultsLines: new Map(), exports: [], undefinedSymbols: [] };
  try {
    let elf = bytes;
    const kind = detectCompression(bytes);
    if (kind !== 'none') {
      const r = decompressModule(bytes, kind);
      if (!r.ok) throw new Error(`cannot decompress the ${kind} file: ${r.error.what}`);
      elf = r.bytes;
    }
    const sig = readModuleSignature(elf);
    const image = ModuleImage.open(sig.present ? elf.subarray(0, sig.elfLength) : elf);
    facts.name = image.name || facts.name;
    facts.description = image.modinfo.get('description');
    facts.params = image.params;
    facts.paramOrder = mergeParams(image.modinfo.entries).map((m) => m.name);
    facts.defaultsLines = defaultsLines(image);
    facts.exports = image.exports;
    const symbols = image.elf.symbols;
    if (symbols) {
      for (let i = 1; i < symbols.count; i++) {
        if (symbols.rawShndx[i] === SHN_UNDEF) {
          const n = symbols.name(i);
          if (n) facts.undefinedSymbols.push(n);
        }
      }
    }
  } catch (e) {
    facts.decodeError = (e as Error).message;
  }
  return facts;
}

export interface LoadRequest {
  profile: KernelProfile;
  bootArgs: string;
  params: string;
  forceVermagic: boolean;
  forceModversion: boolean;
  // The workspace's other modules, for the exports this one needs.
  workspace: Iterable<ModuleFacts>;
}

export interface LoadRun {
  result: SyscallResult;
  // Workspace modules put in place first, by name.
  providers: string[];
}

// The lines of `kmodsim modinfo`'s parameter block, by parameter name.
function defaultsLines(image: ModuleImage): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of formatParamDefaults(image).split('\n')) {
    if (line === PARAM_BLOCK_HEADER || !line.startsWith('  ') || line.startsWith('    ')) {
      continue;
    }
    const text = line.trim();
    map.set(text.split(/\s+/)[0], text.replace(/\s{2,}/g, '  '));
  }
  return map;
}

// `raw` is the file as read for this load: facts keep no bytes.
export function simulateLoad(facts: ModuleFacts, raw: Uint8Array, req: LoadRequest): LoadRun {
  const kernel = SimulatedKernel.boot(req.profile, req.bootArgs);
  const providers = workspaceProviders(facts, req);
  const result = insmodWithDependencies(kernel, raw, req.params,
    { forceVermagic: req.forceVermagic, forceModversion: req.forceModversion }, () => {
      for (const p of providers) {
        const exports = new Map<string, LoadedExport>();
        for (const e of p.exports) {
          exports.set(e.name, { crc: e.crc, gplOnly: e.gplOnly, namespace: e.namespace });
        }
        kernel.assumeLoaded(p.name, exports);
      }
    });
  return { result, providers: providers.map((p) => p.name) };
}

// The workspace modules that export a symbol this one needs and the kernel does not have.
export function workspaceProviders(facts: ModuleFacts, req: LoadRequest): ModuleFacts[] {
  const missing = new Set(facts.undefinedSymbols.filter((s) => !req.profile.exports.has(s)));
  if (!missing.size) return [];
  const out: ModuleFacts[] = [];
  for (const other of req.workspace) {
    if (other.file === facts.file || other.name === facts.name) continue;
    if (out.some((o) => o.name === other.name)) continue;
    if (other.exports.some((e) => missing.has(e.name))) out.push(other);
  }
  return out;
}

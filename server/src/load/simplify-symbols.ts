// simplify_symbols() and resolve_symbol() (kernel/module/main.c): every symbol gets its final
// value. The loop does not stop at the first failure: each bad symbol prints its line and the
// last error is what the load returns.

import {
  SHN_ABS, SHN_COMMON, SHN_LIVEPATCH, SHN_UNDEF, STB_WEAK,
} from '../elf/index.js';
import type { LoadContext } from './context.js';
import { EINVAL, EBUSY, ENOENT, ENOEXEC } from './errno.js';
import { KERN_ERR, KERN_WARNING } from './kmsg.js';
import { MODULE_ADDRESS_HIGH, type Layout } from './layout.js';
import { checkVersion } from './modversions.js';
import { findSymbol, type FoundSymbol } from './resolve.js';
import { TAINT_PROPRIETARY_MODULE } from './taint.js';

// The final st_value of every symbol, as two 32-bit halves.
export interface SymbolValues {
  low: Uint32Array;
  high: Uint32Array;
}

type Resolved = FoundSymbol | null | { errno: number };

function inheritTaint(ctx: LoadContext, found: FoundSymbol): boolean {
  const owner = found.owner;
  if (!owner || !(owner.taints & (1 << TAINT_PROPRIETARY_MODULE))) return true;
  if (ctx.usingGplOnlySymbols) {
    ctx.print(KERN_ERR, `${ctx.structModuleName}: module using GPL-only symbols uses symbols ` +
      `${found.name} from proprietary module ${owner.name}.`);
    return false;
  }
  if (!(ctx.moduleTaints & (1 << TAINT_PROPRIETARY_MODULE))) {
    ctx.print(KERN_WARNING, `${ctx.structModuleName}: module uses symbols ${found.name} from ` +
      `proprietary module ${owner.name}, inheriting taint.`);
    ctx.moduleTaints |= 1 << TAINT_PROPRIETARY_MODULE;
    ctx.kernel.addTaint(TAINT_PROPRIETARY_MODULE, true, ctx.lines);
  }
  return true;
}

function verifyNamespaceIsImported(ctx: LoadContext, found: FoundSymbol): number {
  if (!found.namespace) return 0;
  const imported = ctx.image!.modinfo.getAll('import_ns');
  if (imported.includes(found.namespace)) return 0;
  const text = `${ctx.structModuleName}: module uses symbol (${found.name}) from namespace ` +
    `${found.namespace}, but does not import it.`;
  const allow = ctx.profile.config.MODULE_ALLOW_MISSING_NAMESPACE_IMPORTS;
  ctx.print(allow ? KERN_WARNING : KERN_ERR, text);
  ctx.find('verify_namespace_is_imported', allow ? 'warning' : 'error',
    `add MODULE_IMPORT_NS(${found.namespace}) to the module's source`,
    { symbol: found.name });
  return allow ? 0 : EINVAL;
}

function resolveSymbol(ctx: LoadContext, name: string): Resolved {
  const gplok = !(ctx.moduleTaints & (1 << TAINT_PROPRIETARY_MODULE));
  const found = findSymbol(ctx, name, gplok);
  if (!found) return null;
  if (found.gplOnly) ctx.usingGplOnlySymbols = true;
  if (!inheritTaint(ctx, found)) return null;
  if (!checkVersion(ctx, name, found.crc)) return { errno: EINVAL };
  const ns = verifyNamespaceIsImported(ctx, found);
  if (ns) return { errno: ns };
  if (found.owner) {
    if (found.owner.state === 'coming') return { errno: EBUSY };
    if (found.owner.state === 'going') return { errno: ENOENT };
    ctx.usedOwners.add(found.owner.name);
  }
  return found;
}

// The name as the kernel reads it: a C string at the string table's file offset plus st_name,
// with no bound but the copy of the file (6.1 and 6.12 do not check st_name), so a symbol table
// linked to the wrong section gets names from whatever bytes lie there.
function kernelSymbolName(ctx: LoadContext, i: number): string {
  const symbols = ctx.elf!.symbols!;
  const name = symbols.name(i);
  if (name !== null) return name;
  const strtab = symbols.strtab;
  if (!strtab) return '';
  const b = ctx.bytes;
  let at = strtab.offset + symbols.nameOffset[i];
  let out = '';
  for (; at < b.length && b[at] !== 0; at++) out += String.fromCharCode(b[at]);
  if (at >= b.length) {
    ctx.unknowns.push(`symbol ${i}: its name runs past the end of the file into memory a ` +
      'simulation cannot see');
  }
  return out;
}

export function simplifySymbols(ctx: LoadContext, layout: Layout):
  { err: number; values: SymbolValues } {
  const step = 'simplify_symbols';
  const symbols = ctx.elf!.symbols!;
  const shnum = ctx.elf!.header.shnum;
  const low = new Uint32Array(symbols.valueLo);
  const high = new Uint32Array(symbols.valueHi);
  let ret = 0;
  const unknown: string[] = [];

  for (let i = 1; i < symbols.count; i++) {
    const shndx = symbols.rawShndx[i];
    if (shndx === SHN_COMMON) {
      const name = symbols.name(i) ?? '';
      if (name.startsWith('__gnu_lto')) continue;
      ctx.print(KERN_WARNING, `${ctx.structModuleName}: please compile with -fno-common`);
      ret = ENOEXEC;
    } else if (shndx === SHN_ABS || shndx === SHN_LIVEPATCH) {
      continue;
    } else if (shndx === SHN_UNDEF) {
      const name = kernelSymbolName(ctx, i);
      const r = resolveSymbol(ctx, name);
      if (r && !('errno' in r)) {
        low[i] = r.addressLow;
        high[i] = MODULE_ADDRESS_HIGH;
        continue;
      }
      const weak = symbols.bind(i) === STB_WEAK;
      if (r === null && (weak || (ctx.profile.arch === 'x86_64'
        && name === '_GLOBAL_OFFSET_TABLE_'))) {
        low[i] = 0;
        high[i] = 0;
        continue;
      }
      ret = r === null ? ENOENT : r.errno;
      ctx.print(KERN_WARNING, `${ctx.structModuleName}: Unknown symbol ${name} (err -${ret})`);
      unknown.push(name);
    } else if (shndx >= shnum) {
      const name = symbols.name(i) ?? '';
      ctx.print(KERN_ERR, `${ctx.structModuleName}: Symbol ${name} has an invalid section ` +
        `index ${shndx} (max ${shnum - 1})`);
      ret = ENOEXEC;
    } else {
      // st_value becomes the section's address plus the offset in it.
      const sum = layout.addressLow[shndx] + symbols.valueLo[i];
      low[i] = sum >>> 0;
      high[i] = layout.placed[shndx] ? MODULE_ADDRESS_HIGH : symbols.valueHi[i];
    }
  }

  if (unknown.length) {
    ctx.find(step, 'error', `unresolved: ${unknown.join(', ')}`, { symbol: unknown[0] });
  }
  ctx.record(step, ret ? 'failed' : 'ok', ret ? `${unknown.length} symbol(s) unresolved`
    : undefined, ret || undefined);
  return { err: ret, values: { low, high } };
}

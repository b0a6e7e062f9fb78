// Symbol lookup as find_symbol() does it: vmlinux's exports first, then each loaded module in
// list order. A module tainted P ("proprietary") cannot see GPL-only exports.

import type { LoadedModule } from './state.js';
import type { LoadContext } from './context.js';

export interface FoundSymbol {
  name: string;
  crc?: number;
  gplOnly: boolean;
  namespace: string;
  owner?: LoadedModule;
  // Address of the symbol: the low half (the high half is 0xffffffff for kernel and modules).
  addressLow: number;
}

// Addresses for vmlinux symbols, when the profile has no System.map: distinct, in the kernel
// text range, so relocation overflow checks see a real kernel address.
const VMLINUX_TEXT_LOW = 0x81000000;

export function findSymbol(ctx: LoadContext, name: string, gplok: boolean):
  FoundSymbol | undefined {
  const k = ctx.profile.exports.get(name);
  if (k && k.owner === 'vmlinux') {
    if (k.gplOnly && !gplok) return undefined;
    return { name, crc: k.crc, gplOnly: k.gplOnly, namespace: k.namespace,
      addressLow: VMLINUX_TEXT_LOW + (hash(name) & 0x3ffffff0) % 0x3e000000 };
  }
  for (const m of ctx.kernel.modules) {
    if (m.state === 'unformed' || m === ctx.module) continue;
    const e = m.exports.get(name);
    if (!e) continue;
    if (e.gplOnly && !gplok) continue;
    return { name, crc: e.crc, gplOnly: e.gplOnly, namespace: e.namespace, owner: m,
      addressLow: 0xc0000000 + (hash(m.name + name) & 0x3ef00000) };
  }
  return undefined;
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

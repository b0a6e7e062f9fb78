// Checks between allocation and symbol resolution: find_module_sections() and the export CRC
// check (check_export_symbol_versions() in 6.12, part of check_module_license_and_versions()
// in 6.1), and, after relocation, verify_exported_symbols() in complete_formation().

import type { LoadContext } from './context.js';
import { EINVAL, ENOEXEC } from './errno.js';
import { KERN_ERR, KERN_WARNING } from './kmsg.js';
import { tryToForceLoad } from './modversions.js';
import { findSymbol } from './resolve.js';

export function findModuleSections(ctx: LoadContext): number {
  const step = 'find_module_sections';
  const image = ctx.image!;
  if (image.allocSection('.ctors') && image.allocSection('.init_array')) {
    ctx.print(KERN_WARNING, `${ctx.structModuleName}: has both .ctors and .init_array.`);
    ctx.record(step, 'failed', 'both .ctors and .init_array', EINVAL);
    return EINVAL;
  }
  if (image.allocSection('__obsparm')) {
    ctx.print(KERN_WARNING, `${ctx.structModuleName}: Ignoring obsolete parameters`);
  }
  ctx.record(step, 'ok');
  return 0;
}

export function checkExportSymbolVersions(ctx: LoadContext): number {
  if (!ctx.profile.config.MODVERSIONS) return 0;
  const image = ctx.image!;
  const missing = (tab: string, crcs: string) => {
    const t = image.allocSection(tab);
    return !!t && t.size > 0 && !image.allocSection(crcs);
  };
  if (missing('__ksymtab', '__kcrctab') || missing('__ksymtab_gpl', '__kcrctab_gpl')) {
    const err = tryToForceLoad(ctx, 'no versions for exported symbols');
    if (err) {
      ctx.record('check_export_symbol_versions', 'failed', 'exports without CRCs', ENOEXEC);
      return ENOEXEC;
    }
  }
  return 0;
}

export function verifyExportedSymbols(ctx: LoadContext): number {
  const step = 'verify_exported_symbols';
  for (const e of ctx.image!.exports) {
    const found = findSymbol(ctx, e.name, true);
    if (!found) continue;
    const owner = found.owner ? found.owner.name : 'kernel';
    ctx.print(KERN_ERR, `${ctx.structModuleName}: exports duplicate symbol ${e.name} ` +
      `(owned by ${owner})`);
    ctx.record(step, 'failed', `${e.name} is already exported by ${owner}`, ENOEXEC,
      { symbol: e.name, section: e.section });
    return ENOEXEC;
  }
  ctx.record(step, 'ok');
  return 0;
}

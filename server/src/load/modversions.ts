// Symbol versions (kernel/module/version.c): check_version(), check_modstruct_version() and
// try_to_force_load() (kernel/module/main.c).

import type { LoadContext } from './context.js';
import { ENOEXEC } from './errno.js';
import { KERN_WARNING } from './kmsg.js';
import { TAINT_FORCED_MODULE } from './taint.js';

// try_to_force_load(): with CONFIG_MODULE_FORCE_LOAD the load goes on with taint F (printed
// only while the kernel is not yet F-tainted); without it the load fails, silently.
export function tryToForceLoad(ctx: LoadContext, reason: string): number {
  if (!ctx.profile.config.MODULE_FORCE_LOAD) return -ENOEXEC;
  if (!ctx.kernel.tainted(TAINT_FORCED_MODULE)) {
    ctx.print(KERN_WARNING, `${ctx.structModuleName}: ${reason}: kernel tainted.`);
  }
  ctx.moduleTaints |= 1 << TAINT_FORCED_MODULE;
  ctx.kernel.addTaint(TAINT_FORCED_MODULE, true, ctx.lines);
  ctx.find('try_to_force_load', 'warning', `forced load (${reason}): taint F`);
  return 0;
}

// check_version(): true when the module's recorded CRC for `symbol` is acceptable.
export function checkVersion(ctx: LoadContext, symbol: string, crc: number | undefined): boolean {
  if (!ctx.profile.config.MODVERSIONS) return true;
  // An exporter without a CRC (e.g. a module built without modversions) is taken as is.
  if (crc === undefined) return true;
  if (!ctx.useVersions) return tryToForceLoad(ctx, symbol) === 0;

  const versions = ctx.image?.versions;
  const entry = versions?.entries.find((e) => e.name === symbol);
  if (entry) {
    if (entry.crc === crc && entry.crcHigh === 0) return true;
    ctx.print(KERN_WARNING, `${ctx.name}: disagrees about version of symbol ${symbol}`);
    ctx.find('check_version', 'error', `__versions records 0x${hex8(entry.crc)} for ${symbol}, ` +
      `the kernel has 0x${hex8(crc)}: the module was built against another kernel's ` +
      'Module.symvers', { section: '__versions', offset: entry.offset, symbol });
    return false;
  }

  if (ctx.profile.rules.missingCrcFatal) {
    ctx.print(KERN_WARNING, `${ctx.name}: no symbol version for ${symbol}`);
    ctx.find('check_version', 'error', `${symbol} has no entry in __versions; Debian's kernel ` +
      'refuses that (the module was built against an incomplete Module.symvers)',
    { section: '__versions', symbol });
    return false;
  }
  if (ctx.kernel.firstTime('check_version:no-symbol-version')) {
    ctx.print(KERN_WARNING, `${ctx.name}: no symbol version for ${symbol}`);
  }
  return true;
}

// check_modstruct_version(): the module_layout CRC, which guards struct module's layout.
export function checkModstructVersion(ctx: LoadContext): number {
  const step = 'check_modstruct_version';
  const ok = checkVersion(ctx, 'module_layout', ctx.profile.moduleLayoutCrc);
  if (!ok) {
    ctx.record(step, 'failed', 'module_layout CRC does not match', ENOEXEC,
      { section: '__versions', symbol: 'module_layout' });
    return ENOEXEC;
  }
  ctx.record(step, 'ok');
  return 0;
}

export function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

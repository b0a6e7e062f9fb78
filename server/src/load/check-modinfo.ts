// check_modinfo() (kernel/module/main.c): vermagic through same_magic(), livepatch, and on 6.1
// the taints that later series apply after allocation.

import type { LoadContext } from './context.js';
import { MODULE_INIT_IGNORE_VERMAGIC } from './context.js';
import { ENOEXEC } from './errno.js';
import { KERN_ERR } from './kmsg.js';
import { tryToForceLoad } from './modversions.js';
import { taintsFromModinfo } from './taints.js';

// same_magic(): with CRCs in use only what follows the first space is compared, so the kernel
// release may differ; otherwise the whole string.
export function sameMagic(amagic: string, bmagic: string, hasCrcs: boolean): boolean {
  if (hasCrcs) {
    const a = amagic.indexOf(' ');
    const b = bmagic.indexOf(' ');
    return (a < 0 ? '' : amagic.slice(a)) === (b < 0 ? '' : bmagic.slice(b));
  }
  return amagic === bmagic;
}

export function checkModinfo(ctx: LoadContext): number {
  const step = 'check_modinfo';
  const modinfo = ctx.image!.modinfo;
  const modmagic = ctx.flags & MODULE_INIT_IGNORE_VERMAGIC ? undefined : modinfo.get('vermagic');
  if (modmagic === undefined) {
    const err = tryToForceLoad(ctx, 'bad vermagic');
    if (err) {
      ctx.record(step, 'failed', 'no vermagic and CONFIG_MODULE_FORCE_LOAD is off', ENOEXEC);
      return ENOEXEC;
    }
  } else {
    const hasCrcs = ctx.profile.config.MODVERSIONS && ctx.useVersions;
    if (!sameMagic(modmagic, ctx.profile.vermagic, hasCrcs)) {
      ctx.print(KERN_ERR,
        `${ctx.name}: version magic '${modmagic}' should be '${ctx.profile.vermagic}'`);
      ctx.find(step, 'error', explainVermagic(modmagic, ctx.profile.vermagic, hasCrcs),
        { section: '.modinfo' });
      ctx.record(step, 'failed', 'vermagic mismatch', ENOEXEC, { section: '.modinfo' });
      return ENOEXEC;
    }
  }

  if (modinfo.has('livepatch') && !ctx.profile.config.LIVEPATCH) {
    ctx.print(KERN_ERR,
      `${ctx.name}: module is marked as livepatch module, but livepatch support is disabled`);
    ctx.record(step, 'failed', 'livepatch module on a kernel without CONFIG_LIVEPATCH', ENOEXEC);
    return ENOEXEC;
  }

  if (ctx.profile.series === '6.1') taintsFromModinfo(ctx);
  ctx.record(step, 'ok');
  return 0;
}

function explainVermagic(mod: string, kernel: string, hasCrcs: boolean): string {
  const a = mod.split(' ');
  const b = kernel.split(' ');
  const diffs: string[] = [];
  const from = hasCrcs ? 1 : 0;
  if (!hasCrcs && a[0] !== b[0]) diffs.push(`release '${a[0]}' vs '${b[0]}'`);
  const wordsA = new Set(a.slice(from).filter(Boolean));
  const wordsB = new Set(b.slice(from).filter(Boolean));
  for (const w of wordsA) if (!wordsB.has(w)) diffs.push(`module has '${w}'`);
  for (const w of wordsB) if (!wordsA.has(w)) diffs.push(`kernel has '${w}'`);
  const why = diffs.length ? diffs.join(', ') : 'spacing differs';
  return `vermagic differs (${why}); rebuild against this kernel's headers` +
    (hasCrcs ? '' : ' (without __versions the release is compared too)');
}

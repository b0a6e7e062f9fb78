// module_sig_check() (kernel/module/signing.c). A forced load (either ignore flag) is
// "mangled": its signature is not looked at, so it counts as unsigned. Unsigned, unknown-key
// and unsupported-crypto outcomes are allowed unless signatures are enforced or the kernel is
// locked down; any other failure is fatal, silently, even when nothing is enforced.

import { kernelSignatureCheck, type TrustedKey } from '../module/signature.js';
import type { LoadContext } from './context.js';
import { MODULE_INIT_IGNORE_MODVERSIONS, MODULE_INIT_IGNORE_VERMAGIC } from './context.js';
import { EKEYREJECTED, ENODATA, ENOKEY, ENOPKG, EPERM } from './errno.js';
import { KERN_NOTICE } from './kmsg.js';

const REASONS: Record<number, string> = {
  [ENODATA]: 'unsigned module',
  [ENOPKG]: 'module with unsupported crypto',
  [ENOKEY]: 'module with unavailable key',
};

export function moduleSigCheck(ctx: LoadContext): number {
  const step = 'module_sig_check';
  if (!ctx.profile.config.MODULE_SIG) {
    ctx.record(step, 'skipped', 'CONFIG_MODULE_SIG is off');
    return 0;
  }
  const mangled = ctx.flags & (MODULE_INIT_IGNORE_MODVERSIONS | MODULE_INIT_IGNORE_VERMAGIC);
  let err = ENODATA;
  let detail = mangled ? 'forced load: the signature is not checked' : 'no signature';
  if (!mangled) {
    const trusted: TrustedKey[] = ctx.profile.trustedSigners.map((s) => ({
      issuer: s.issuer, serialHex: s.serialHex, subjectKeyIdHex: s.subjectKeyIdHex,
      certificate: s.certificatePem,
    }));
    const v = kernelSignatureCheck(ctx.bytes.subarray(0, ctx.len), trusted);
    for (const l of v.lines) ctx.print(l.level, l.text);
    ctx.len = v.elfLength;
    err = v.errno;
    detail = v.detail ?? v.outcome;
    if (v.outcome === 'ok' && v.verifiedBy === 'identity-only') {
      ctx.unknowns.push('the signer is trusted by identity only (its certificate is not in ' +
        'the profile): a signed module whose bytes were changed would be refused with ' +
        'EKEYREJECTED, which this simulation cannot see');
    }
  }

  if (err === 0) {
    ctx.sigOk = true;
    ctx.record(step, 'ok', 'signature verified');
    return 0;
  }
  const reason = REASONS[err];
  if (!reason) {
    ctx.record(step, 'failed', `signature rejected (${detail})`, err);
    ctx.find(step, 'error', `the appended signature is invalid (${detail}); a signed module ` +
      'must not be modified after signing', { section: 'signature' });
    return err;
  }
  if (ctx.profile.config.MODULE_SIG_FORCE || ctx.kernel.boot.sigEnforce) {
    ctx.print(KERN_NOTICE, `Loading of ${reason} is rejected`);
    ctx.record(step, 'failed', `${reason}, and signatures are enforced`, EKEYREJECTED);
    return EKEYREJECTED;
  }
  if (ctx.kernel.boot.lockdown !== 'none') {
    ctx.print(KERN_NOTICE, `Lockdown: ${ctx.kernel.boot.comm}: unsigned module loading is ` +
      'restricted; see man kernel_lockdown.7');
    ctx.record(step, 'failed', `${reason}, and the kernel is locked down`, EPERM);
    return EPERM;
  }
  ctx.record(step, 'ok', `${reason}: allowed, the kernel will be tainted E`);
  return 0;
}

// The taints a module's .modinfo and signature bring, with their messages. 6.12 applies them
// all in module_augment_kernel_taints() after add_unformed_module(); 6.1 applies the modinfo
// ones inside check_modinfo(), the unsigned one after add_unformed_module() and the name
// special cases in check_module_license_and_versions().

import type { LoadContext } from './context.js';
import { KERN_ERR, KERN_NOTICE, KERN_WARNING } from './kmsg.js';
import {
  TAINT_CRAP, TAINT_LIVEPATCH, TAINT_OOT_MODULE, TAINT_PROPRIETARY_MODULE, TAINT_TEST,
  TAINT_UNSIGNED_MODULE,
} from './taint.js';

// include/linux/license.h license_is_gpl_compatible().
const GPL_COMPATIBLE = new Set([
  'GPL', 'GPL v2', 'GPL and additional rights', 'Dual BSD/GPL', 'Dual MIT/GPL', 'Dual MPL/GPL',
]);

export function licenseIsGplCompatible(license: string): boolean {
  return GPL_COMPATIBLE.has(license);
}

// add_taint_module(): the module and the kernel both get the flag.
function taintModule(ctx: LoadContext, flag: number, lockdepUnreliable: boolean) {
  ctx.moduleTaints |= 1 << flag;
  ctx.kernel.addTaint(flag, lockdepUnreliable, ctx.lines);
}

function outOfTree(ctx: LoadContext) {
  if (ctx.image!.modinfo.has('intree')) return;
  if (!ctx.kernel.tainted(TAINT_OOT_MODULE)) {
    ctx.print(KERN_WARNING, `${ctx.structModuleName}: loading out-of-tree module taints kernel.`);
  }
  taintModule(ctx, TAINT_OOT_MODULE, false);
}

// check_modinfo_retpoline(): printed on every load, never fatal.
function retpoline(ctx: LoadContext) {
  const cfg = ctx.profile.config;
  if (ctx.profile.arch !== 'x86_64' || !cfg.RETPOLINE) return;
  if (ctx.image!.modinfo.has('retpoline') || !ctx.profile.spectreV2Mitigated) return;
  ctx.print(KERN_ERR, 'Spectre V2 : System may be vulnerable to spectre v2');
  ctx.print(KERN_WARNING,
    `${ctx.structModuleName}: loading module not compiled with retpoline compiler.`);
}

function staging(ctx: LoadContext) {
  if (!ctx.image!.modinfo.has('staging')) return;
  taintModule(ctx, TAINT_CRAP, false);
  ctx.print(KERN_WARNING, `${ctx.structModuleName}: module is from the staging directory, ` +
    'the quality is unknown, you have been warned.');
}

function livepatch(ctx: LoadContext) {
  if (!ctx.image!.modinfo.has('livepatch')) return;
  taintModule(ctx, TAINT_LIVEPATCH, false);
  if (ctx.kernel.firstTime('livepatch-taint')) {
    ctx.print(KERN_NOTICE, `${ctx.structModuleName}: tainting kernel with TAINT_LIVEPATCH`);
  }
}

// set_license() (6.1) / module_license_taint_check() (6.12): only the first license= counts.
function license(ctx: LoadContext) {
  const value = ctx.image!.modinfo.get('license') ?? 'unspecified';
  if (licenseIsGplCompatible(value)) return;
  if (!ctx.kernel.tainted(TAINT_PROPRIETARY_MODULE)) {
    ctx.print(KERN_WARNING, `${ctx.structModuleName}: module license '${value}' taints kernel.`);
  }
  taintModule(ctx, TAINT_PROPRIETARY_MODULE, true);
  ctx.find('taints', 'warning', `license '${value}' is not GPL-compatible: taint P, and ` +
    'GPL-only exports become invisible to this module', { section: '.modinfo' });
}

function testModule(ctx: LoadContext) {
  if (!ctx.image!.modinfo.has('test')) return;
  if (!ctx.kernel.tainted(TAINT_TEST)) {
    ctx.print(KERN_WARNING, `${ctx.structModuleName}: loading test module taints kernel.`);
  }
  taintModule(ctx, TAINT_TEST, false);
}

export function unsignedTaint(ctx: LoadContext) {
  if (!ctx.profile.config.MODULE_SIG || ctx.sigOk) return;
  if (ctx.kernel.firstTime('module-verification-failed')) {
    ctx.print(KERN_NOTICE, `${ctx.structModuleName}: module verification failed: signature ` +
      'and/or required key missing - tainting kernel');
  }
  taintModule(ctx, TAINT_UNSIGNED_MODULE, false);
}

// The three module names the kernel singles out for taint P whatever their license says.
export function licenseSpecialCases(ctx: LoadContext, proprietaryBefore: boolean) {
  const name = ctx.structModuleName;
  if (name === 'ndiswrapper') ctx.kernel.addTaint(TAINT_PROPRIETARY_MODULE, true, ctx.lines);
  if (name === 'driverloader' || name === 'lve') taintModule(ctx, TAINT_PROPRIETARY_MODULE, true);
  if (!proprietaryBefore && ctx.kernel.tainted(TAINT_PROPRIETARY_MODULE)) {
    ctx.print(KERN_WARNING, `${name}: module license taints kernel.`);
  }
}

// The modinfo taints in the kernel's order; on 6.1, the part of check_modinfo() after vermagic.
export function taintsFromModinfo(ctx: LoadContext) {
  outOfTree(ctx);
  retpoline(ctx);
  staging(ctx);
  livepatch(ctx);
  license(ctx);
  testModule(ctx);
}

// 6.12: module_augment_kernel_taints().
export function moduleAugmentKernelTaints(ctx: LoadContext): number {
  const proprietaryBefore = ctx.kernel.tainted(TAINT_PROPRIETARY_MODULE);
  taintsFromModinfo(ctx);
  unsignedTaint(ctx);
  licenseSpecialCases(ctx, proprietaryBefore);
  ctx.record('module_augment_kernel_taints', 'ok');
  return 0;
}

// load_module(): the steps of a module load in the order the target kernel runs them. Each
// step prints through the context and returns 0 or an errno; the first errno ends the load.
// The two orders differ mainly in where the taints fall (kernel-load.md §1.17).

import { parseArgs } from '../params/index.js';
import { applyRelocations } from './apply-relocations.js';
import { btfModuleNotify } from './btf.js';
import { checkModinfo } from './check-modinfo.js';
import { MODULE_INIT_IGNORE_MODVERSIONS, type LoadContext } from './context.js';
import { elfValidityCacheCopy612, elfValidityCheck61 } from './elf-validity.js';
import { EBUSY, EEXIST, EFAULT, EINVAL, EPERM } from './errno.js';
import { KERN_ERR, KERN_WARNING } from './kmsg.js';
import { layoutSections, moduleEnforceRwxSections, type Layout } from './layout.js';
import { moduleSigCheck } from './module-sig.js';
import { checkModstructVersion } from './modversions.js';
import {
  checkExportSymbolVersions, findModuleSections, verifyExportedSymbols,
} from './sections.js';
import { simplifySymbols, type SymbolValues } from './simplify-symbols.js';
import { UNKNOWN_PARAMETER_VALUE, type LoadedModule } from './state.js';
import { licenseSpecialCases, moduleAugmentKernelTaints, unsignedTaint } from './taints.js';
import { TAINT_PROPRIETARY_MODULE, TAINT_USER } from './taint.js';

export interface LoadOptions {
  // Keep the relocated section images (for the differential test against ld).
  keepImages?: boolean;
  // What init() returns; unknown to a static simulation, 0 unless told.
  initReturn?: number;
  // The caller passed a NULL parameter string: strndup_user() faults once the module is
  // relocated, so everything before that (taints, messages) still happens.
  nullParams?: boolean;
}

export interface LoadOutcome {
  err: number;
  relocationsApplied: number;
  images?: Map<number, Uint8Array>;
  layout?: Layout;
  // Every symbol's final value (after simplify_symbols), as 32-bit halves.
  symbolValues?: SymbolValues;
}

function blacklisted(ctx: LoadContext): number {
  const name = ctx.name ?? '';
  if (!ctx.kernel.boot.blacklist.includes(name)) return 0;
  ctx.print(KERN_ERR, `Module ${name} is blacklisted`);
  ctx.record('blacklisted', 'failed', 'named in module_blacklist=', EPERM);
  return EPERM;
}

// module_patient_check_exists() / add_unformed_module(): a live module of that name gives
// EEXIST, one still loading or unloading EBUSY, both silently.
function checkExists(ctx: LoadContext, step: string): number {
  const old = ctx.kernel.find(ctx.structModuleName);
  if (!old) return 0;
  const err = old.state === 'live' ? EEXIST : EBUSY;
  ctx.record(step, 'failed', `a module named ${old.name} is already ${old.state}`, err);
  return err;
}

function addUnformedModule(ctx: LoadContext): number {
  const err = checkExists(ctx, 'add_unformed_module');
  if (err) return err;
  const mod: LoadedModule = {
    name: ctx.structModuleName, state: 'unformed', taints: 0, exports: new Map(),
    users: new Set(), uses: new Set(), parameters: new Map(),
  };
  ctx.module = mod;
  ctx.kernel.modules.unshift(mod);
  return 0;
}

function parseModuleArgs(ctx: LoadContext): number {
  const params = ctx.image!.params;
  const result = parseArgs(ctx.structModuleName, ctx.args, params,
    { lockdown: ctx.kernel.boot.lockdown !== 'none', comm: ctx.kernel.boot.comm });
  for (const l of result.lines) ctx.print(l.level, l.text);
  for (const n of result.notes) ctx.unknowns.push(n);
  if (result.unsafeTaint) ctx.kernel.addTaint(TAINT_USER, false, ctx.lines);
  // /sys/module/<name>/parameters has a file only for perm != 0; a custom ops' text comes
  // from the module's own get(), which a static simulation cannot run.
  for (const p of params) {
    if (p.perm === 0 || ctx.module!.parameters.has(p.name)) continue;
    const v = p.type === 'custom' ? undefined : result.values.get(p.name);
    ctx.module!.parameters.set(p.name, v ?? UNKNOWN_PARAMETER_VALUE);
  }
  for (const a of result.assignments) {
    if (a.errno) {
      const given = a.raw === null ? a.param : `${a.param}=${a.raw}`;
      ctx.find('parse_args', 'error', `${given} refused (errno ${a.errno})`,
        { parameter: a.param });
    }
  }
  ctx.record('parse_args', result.errno ? 'failed' : 'ok', undefined, result.errno || undefined);
  return result.errno;
}

// mod_sysfs_setup(): a built-in "module" with a /sys/module entry blocks a load of that name.
function modSysfsSetup(ctx: LoadContext): number {
  if (!ctx.profile.builtin.has(ctx.structModuleName)) return 0;
  ctx.print(KERN_ERR, `${ctx.structModuleName}: module is already loaded`);
  ctx.record('mod_sysfs_setup', 'failed', 'built into the kernel', EINVAL);
  return EINVAL;
}

function doInitModule(ctx: LoadContext, initReturn: number | undefined): number {
  if (initReturn === undefined) {
    if (ctx.image!.thisModule?.init) {
      ctx.unknowns.push('init_module() return value: assumed 0 (the simulation cannot run it)');
    }
    ctx.record('do_init_module', 'unknown', 'init() assumed to return 0');
    return 0;
  }
  if (initReturn < 0) {
    ctx.record('do_init_module', 'failed', `init() returned ${initReturn}`, -initReturn);
    return -initReturn;
  }
  if (initReturn > 0) {
    ctx.print(KERN_WARNING, `do_init_module: '${ctx.structModuleName}'->init suspiciously ` +
      `returned ${initReturn}, it should follow 0/-E convention\ndo_init_module: loading ` +
      'module anyway...');
  }
  ctx.record('do_init_module', 'ok');
  return 0;
}

// Steps after the module is in the list: they are common to both series.
function fromSymbolsOn(ctx: LoadContext, layout: Layout, opts: LoadOptions): LoadOutcome {
  const sym = simplifySymbols(ctx, layout);
  if (sym.err) return { err: sym.err, relocationsApplied: 0, layout };
  const rel = applyRelocations(ctx, layout, sym.values, opts.keepImages);
  const out: LoadOutcome = { err: rel.err, relocationsApplied: rel.stats.applied, layout,
    images: opts.keepImages ? rel.stats.images : undefined, symbolValues: sym.values };
  if (rel.err) return out;
  if (opts.nullParams) {
    ctx.record('strndup_user', 'failed', 'the parameter string pointer is NULL', EFAULT);
    out.err = EFAULT;
    return out;
  }
  ctx.module!.state = 'coming';
  out.err = verifyExportedSymbols(ctx) || btfModuleNotify(ctx) || parseModuleArgs(ctx)
    || modSysfsSetup(ctx) || doInitModule(ctx, opts.initReturn);
  return out;
}

export function loadModule(ctx: LoadContext, opts: LoadOptions = {}): LoadOutcome {
  const fail = (err: number): LoadOutcome => ({ err, relocationsApplied: 0 });
  let err = moduleSigCheck(ctx);
  if (err) return fail(err);

  const series = ctx.profile.series;
  err = series === '6.1' ? elfValidityCheck61(ctx) : elfValidityCacheCopy612(ctx);
  if (err) return fail(err);
  if (ctx.flags & MODULE_INIT_IGNORE_MODVERSIONS) ctx.useVersions = false;

  err = blacklisted(ctx) || checkModstructVersion(ctx) || checkModinfo(ctx);
  if (err) return fail(err);
  if (series !== '6.1') {
    err = checkExists(ctx, 'module_patient_check_exists');
    if (err) return fail(err);
  }

  err = moduleEnforceRwxSections(ctx);
  if (err) return fail(err);
  const layout = layoutSections(ctx, ctx.kernel.modules.length);
  if (typeof layout === 'number') return fail(layout);

  err = addUnformedModule(ctx);
  if (err) return fail(err);
  if (series === '6.1') {
    unsignedTaint(ctx);
    err = findModuleSections(ctx);
    if (!err) {
      licenseSpecialCases(ctx, ctx.kernel.tainted(TAINT_PROPRIETARY_MODULE));
      err = checkExportSymbolVersions(ctx);
    }
  } else {
    moduleAugmentKernelTaints(ctx);
    err = findModuleSections(ctx) || checkExportSymbolVersions(ctx);
  }
  if (err) return { err, relocationsApplied: 0, layout };
  const out = fromSymbolsOn(ctx, layout, opts);
  if (!out.err) foreignStructModule(ctx);
  return out;
}

// 6.1 never compares .gnu.linkonce.this_module with its own struct module (6.12 refuses a
// mismatch in elf_validity_cache_copy), so a forced module of another series goes live with
// every field after the common prefix read at this kernel's offsets. Debian 6.1.0-57 ran a
// 6.12 module's init() and then refused to unload it (EBUSY: no exit() where it looked).
function foreignStructModule(ctx: LoadContext) {
  const size = ctx.image?.thisModule?.size;
  const want = ctx.profile.structModuleSize;
  if (size === undefined || size === want) return;
  const hex = (n: number) => `0x${n.toString(16)}`;
  const text = `.gnu.linkonce.this_module is ${size} bytes (${hex(size)}) but this kernel's ` +
    `struct module is ${want} (${hex(want)}): ${ctx.profile.release} does not check the size ` +
    'and reads the module\'s struct module with its own layout, so init(), exit() and the ' +
    'other fields it finds there may be garbage';
  ctx.find('load_module', 'error', text, { section: '.gnu.linkonce.this_module' });
  ctx.undecide(`the module loads with a struct module of another layout (${size} bytes, the ` +
    `kernel's is ${want}): what the kernel then does with it is not known`);
  if (ctx.module) ctx.module.foreignLayout = true;
}

// SimulatedKernel: a booted kernel that modules are loaded into, one system call at a time.
// Its entry points mirror init_module(2), finit_module(2) and delete_module(2) and return
// what they would: the return value, errno, the kernel lines printed and the taint after.

import { ElfFormatError } from '../elf/errors.js';
import type { KernelProfile } from '../kernel/profile.js';
import { kernelDecompress } from '../module/decompress.js';
import {
  LoadContext, MODULE_INIT_COMPRESSED_FILE, MODULE_INIT_IGNORE_MODVERSIONS,
  MODULE_INIT_IGNORE_VERMAGIC, type Finding, type StepRecord, type Syscall,
} from './context.js';
import { EBADF, EBUSY, EINVAL, ENOENT, ENOEXEC, EPERM, ETXTBSY, errnoName } from './errno.js';
import { printkStore, printkTextMax, type KernelLine } from './kmsg.js';
import { loadModule, type LoadOptions } from './load-module.js';
import { KernelState, parseBootArgs, type LoadedModule } from './state.js';
import { taintLetters } from './taint.js';

const EWOULDBLOCK = 11;
const O_TRUNC = 0o1000;

export type OpenMode = 'rdonly' | 'rdwr' | 'wronly' | 'bad';

export interface SyscallResult {
  call: Syscall | 'delete_module';
  ret: 0 | -1;
  errno: number;
  errnoName: string;
  lines: KernelLine[];
  taintBefore: number;
  taintAfter: number;
  steps: StepRecord[];
  findings: Finding[];
  unknowns: string[];
  // Why the outcome is not the simulation's to give (see LoadContext.undecidable); `ret` and
  // the lines are then only what the simulation saw up to there.
  undecidable?: string;
  // The module as /proc/modules would list it after a successful load.
  loaded?: { name: string; taint: string; parameters: Record<string, string> };
  moduleName?: string;
  relocationsApplied: number;
  outcome?: ReturnType<typeof loadModule>;
}

// struct module's name is read through this_module's relocations, which may be the very part
// that is malformed: after a failed load the name from .modinfo must do.
function moduleNameOf(ctx: LoadContext): string | undefined {
  try {
    return ctx.structModuleName || ctx.name;
  } catch (e) {
    if (!(e instanceof ElfFormatError)) throw e;
    return ctx.name;
  }
}

export class SimulatedKernel {
  readonly state: KernelState;

  private constructor(state: KernelState) {
    this.state = state;
  }

  static boot(profile: KernelProfile, bootArgs = '', comm = 'insmod'): SimulatedKernel {
    return new SimulatedKernel(new KernelState(profile, parseBootArgs(bootArgs, comm)));
  }

  get profile(): KernelProfile {
    return this.state.profile;
  }

  get taint(): number {
    return this.state.taint;
  }

  // Stand in a module of the kernel's tree as loaded, with the given exports, the way modprobe
  // would have loaded a dependency first. Not simulated itself.
  assumeLoaded(name: string, exports: LoadedModule['exports']) {
    if (this.state.find(name)) return;
    this.state.modules.push({ name, state: 'live', taints: 0, exports, users: new Set(),
      uses: new Set(), parameters: new Map(), assumed: true });
  }

  finitModule(file: Uint8Array, params: string, flags: number,
    opts: LoadOptions & { openMode?: OpenMode } = {}): SyscallResult {
    const before = this.state.taint;
    const early = (errno: number, lines: KernelLine[] = []) =>
      this.result('finit_module', errno, lines, before);
    if (this.state.boot.modulesDisabled) return early(EPERM);
    const known = MODULE_INIT_IGNORE_MODVERSIONS | MODULE_INIT_IGNORE_VERMAGIC
      | MODULE_INIT_COMPRESSED_FILE;
    if ((flags >>> 0) & ~known) return early(EINVAL);
    const mode = opts.openMode ?? 'rdonly';
    if (mode === 'bad' || mode === 'wronly') return early(EBADF);
    if (mode === 'rdwr') return early(ETXTBSY);
    // kernel_read_file() refuses an empty file.
    if (file.length === 0) return early(EINVAL);

    let bytes = file;
    if (flags & MODULE_INIT_COMPRESSED_FILE) {
      const algo = this.profile.config.MODULE_DECOMPRESS;
      const v = kernelDecompress(file, algo === 'xz' ? 'xz' : 'none');
      if (!v.ok) {
        const r = early(v.errno, v.lines);
        if (v.undecidable) r.undecidable = v.undecidable;
        return r;
      }
      bytes = v.bytes;
    }
    return this.load('finit_module', bytes, params, flags, before, opts);
  }

  initModule(image: Uint8Array, params: string, opts: LoadOptions = {}): SyscallResult {
    const before = this.state.taint;
    if (this.state.boot.modulesDisabled) return this.result('init_module', EPERM, [], before);
    if (image.length < 64) return this.result('init_module', ENOEXEC, [], before);
    return this.load('init_module', image, params, 0, before, opts);
  }

  deleteModule(name: string, flags = 0): SyscallResult {
    const before = this.state.taint;
    const mod = this.state.find(name);
    if (!mod || mod.state !== 'live') {
      return this.result('delete_module', mod ? EBUSY : ENOENT, [], before);
    }
    if (mod.users.size) return this.result('delete_module', EWOULDBLOCK, [], before);
    if (mod.foreignLayout) {
      const r = this.result('delete_module', EBUSY, [], before);
      r.undecidable = `${name} was loaded with a struct module of another layout: whether ` +
        'delete_module() finds its exit() where this kernel looks is not known (Debian ' +
        '6.1.0-57 answered EBUSY for a module built for 6.12, finding none)';
      r.unknowns.push(r.undecidable);
      return r;
    }
    this.state.modules = this.state.modules.filter((m) => m !== mod);
    for (const used of mod.uses) this.state.find(used)?.users.delete(mod.name);
    void O_TRUNC;
    return this.result('delete_module', 0, [], before);
  }

  private load(call: Syscall, bytes: Uint8Array, params: string, flags: number, before: number,
    opts: LoadOptions): SyscallResult {
    const ctx = new LoadContext(this.state, call, bytes, params, flags);
    let outcome: ReturnType<typeof loadModule>;
    try {
      outcome = loadModule(ctx, opts);
    } catch (e) {
      // A decoder error past the kernel's own checks: the kernel reads such fields unchecked,
      // so there is no kernel verdict to give; say what is wrong instead of guessing.
      const what = e instanceof Error ? e.message : String(e);
      ctx.find('decode', 'error', `cannot decode the module: ${what}`);
      ctx.unknowns.push(`the module is malformed where the kernel does not check: ${what}`);
      outcome = { err: ENOEXEC, relocationsApplied: 0 };
    }
    const mod = ctx.module;
    if (mod) {
      if (outcome.err) {
        this.state.modules = this.state.modules.filter((m) => m !== mod);
      } else {
        mod.state = 'live';
        mod.taints = ctx.moduleTaints;
        for (const e of ctx.image!.exports) {
          mod.exports.set(e.name, { crc: e.crc, gplOnly: e.gplOnly, namespace: e.namespace });
        }
        for (const owner of ctx.usedOwners) {
          mod.uses.add(owner);
          this.state.find(owner)?.users.add(mod.name);
        }
      }
    }
    const r = this.result(call, outcome.err, ctx.lines, before);
    r.steps = ctx.steps;
    r.findings = [...ctx.findings, ...r.findings];
    r.unknowns = ctx.unknowns;
    if (ctx.undecidable) r.undecidable = ctx.undecidable;
    r.moduleName = moduleNameOf(ctx);
    r.relocationsApplied = outcome.relocationsApplied;
    r.outcome = outcome;
    if (!outcome.err && mod) {
      r.loaded = { name: mod.name, taint: taintLetters(mod.taints),
        parameters: Object.fromEntries(mod.parameters) };
    }
    return r;
  }

  // Every line goes through printk's record size here, the one place all of them pass.
  private result(call: SyscallResult['call'], errno: number, lines: KernelLine[],
    before: number): SyscallResult {
    const findings: Finding[] = [];
    const stored = lines.map((l) => {
      const cut = printkStore(this.profile.series, l);
      if (cut.lost) {
        findings.push({ step: 'printk', severity: 'info', message: `a kernel line of ` +
          `${cut.lost - 1 + printkTextMax(this.profile.series)} bytes is cut to ` +
          `${printkTextMax(this.profile.series)} and loses ` +
          'its newline: the kernel keeps the record open, so dmesg shows it only once the ' +
          'next kernel message is logged' });
      }
      return cut.line;
    });
    return {
      call, ret: errno ? -1 : 0, errno, errnoName: errno ? errnoName(errno) : '',
      lines: stored, taintBefore: before, taintAfter: this.state.taint, steps: [], findings,
      unknowns: [], relocationsApplied: 0,
    };
  }
}

// The state of one simulated boot: what persists from one load to the next, exactly as in a
// running kernel. Taints and print-once flags live here, not in the load steps.

import type { KernelProfile } from '../kernel/profile.js';
import type { KernelLine } from './kmsg.js';
import { KERN_WARNING, line } from './kmsg.js';
import { bit } from './taint.js';

export type ModuleState = 'live' | 'coming' | 'going' | 'unformed';

export interface LoadedExport {
  crc?: number;
  gplOnly: boolean;
  namespace: string;
}

// What a parameter's sysfs file reads when the text comes from module code (custom ops).
export const UNKNOWN_PARAMETER_VALUE = '(set by module code)';

export interface LoadedModule {
  name: string;
  state: ModuleState;
  taints: number;
  exports: Map<string, LoadedExport>;
  // Modules that use this one (refcount holders), by name.
  users: Set<string>;
  uses: Set<string>;
  // Parameter values as sysfs shows them.
  parameters: Map<string, string>;
  // A provider that stands in for a module of the kernel's tree that modprobe would have
  // loaded first; it was not simulated itself.
  assumed?: boolean;
  // Loaded with a .gnu.linkonce.this_module of another size (6.1 does not check it): the
  // kernel reads this module's struct module at its own offsets.
  foreignLayout?: boolean;
}

export interface BootOptions {
  sigEnforce: boolean;
  lockdown: 'none' | 'integrity' | 'confidentiality';
  blacklist: string[];
  // The process name the kernel prints in Lockdown lines (current->comm).
  comm: string;
  modulesDisabled: boolean;
}

export class KernelState {
  readonly profile: KernelProfile;
  readonly boot: BootOptions;
  taint = 0;
  // Modules in the kernel's list order: new ones go at the head.
  modules: LoadedModule[] = [];
  // pr_*_once sites that have fired this boot.
  private readonly once = new Set<string>();
  // __debug_locks_off() has run: "Disabling lock debugging" is printed only the first time.
  debugLocksOff = false;

  constructor(profile: KernelProfile, boot: BootOptions) {
    this.profile = profile;
    this.boot = boot;
  }

  tainted(flag: number): boolean {
    return (this.taint & bit(flag)) !== 0;
  }

  // add_taint(): sets the flag, and when the taint makes lock debugging unreliable, turns it
  // off with its one-time message.
  addTaint(flag: number, lockdepUnreliable: boolean, lines: KernelLine[]) {
    if (lockdepUnreliable && !this.debugLocksOff) {
      this.debugLocksOff = true;
      lines.push(line(KERN_WARNING, 'Disabling lock debugging due to kernel taint'));
    }
    this.taint |= bit(flag);
  }

  // True the first time a pr_*_once site asks.
  firstTime(site: string): boolean {
    if (this.once.has(site)) return false;
    this.once.add(site);
    return true;
  }

  find(name: string): LoadedModule | undefined {
    return this.modules.find((m) => m.name === name);
  }
}

// Parses the boot command line options that change module loading.
export function parseBootArgs(args: string, comm = 'insmod'): BootOptions {
  const boot: BootOptions = { sigEnforce: false, lockdown: 'none', blacklist: [], comm,
    modulesDisabled: false };
  for (const word of args.split(/\s+/).filter(Boolean)) {
    const eq = word.indexOf('=');
    const key = eq < 0 ? word : word.slice(0, eq);
    const value = eq < 0 ? '' : word.slice(eq + 1);
    if (key === 'module.sig_enforce') {
      // bool_enable_only: once on it stays on.
      if (eq < 0 || /^[yY1tT]|^[oO][nN]/.test(value)) boot.sigEnforce = true;
    } else if (key === 'lockdown') {
      if (value === 'integrity' || value === 'confidentiality') boot.lockdown = value;
    } else if (key === 'module_blacklist') {
      boot.blacklist.push(...value.split(',').filter(Boolean));
    } else if (key === 'nomodule') {
      boot.modulesDisabled = true;
    }
  }
  return boot;
}

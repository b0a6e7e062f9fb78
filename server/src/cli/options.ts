// Options the insmod, check and run commands share: the boot arguments kmodsim does not act on
// (said, not silently dropped), and --config overrides of the target's kernel configuration.

import type { KernelConfig, KernelProfile } from '../kernel/profile.js';
import { ToolError } from './insmod.js';

// The boot arguments the simulated kernel acts on (load/state.ts parseBootArgs).
const MODELLED = new Set(['module.sig_enforce', 'lockdown', 'module_blacklist', 'nomodule']);

// What kmodsim does not take from a kernel command line, one sentence each.
export function bootArgNotes(args: string): string[] {
  const notes: string[] = [];
  for (const word of args.split(/\s+/).filter(Boolean)) {
    const eq = word.indexOf('=');
    const key = eq < 0 ? word : word.slice(0, eq);
    const value = eq < 0 ? '' : word.slice(eq + 1);
    if (key === 'lockdown' && value !== 'integrity' && value !== 'confidentiality') {
      // lockdown= is an early parameter whose setup function refuses other levels.
      notes.push(`${word}: not a lockdown level (integrity, confidentiality); the kernel ` +
        'prints "Malformed early option \'lockdown\'" at boot and stays unlocked');
    } else if (MODELLED.has(key)) {
      continue;
    } else if (key.includes('.')) {
      notes.push(`${word}: a parameter for module ${key.slice(0, key.indexOf('.'))}: modprobe ` +
        'adds it from /proc/cmdline, insmod does not; kmodsim ignores it');
    } else {
      notes.push(`${word}: not a boot argument kmodsim models (${[...MODELLED].join(', ')}); ` +
        'ignored');
    }
  }
  return notes;
}

// The KernelConfig options that are y or n.
const BOOLEAN_KEYS = ['MODVERSIONS', 'MODULE_FORCE_LOAD', 'MODULE_UNLOAD', 'MODULE_SIG',
  'MODULE_SIG_FORCE', 'MODULE_ALLOW_MISSING_NAMESPACE_IMPORTS', 'LIVEPATCH',
  'STRICT_MODULE_RWX', 'RETPOLINE', 'MODULE_ALLOW_BTF_MISMATCH'] as const;
type BooleanKey = typeof BOOLEAN_KEYS[number];

// Commander's collector for a repeatable option.
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

// The profile with `CONFIG_X=y|n` overrides applied. Only the behaviour the option decides
// changes: the vermagic string and the exports stay the profile's.
export function withConfig(profile: KernelProfile, overrides: string[] = []): KernelProfile {
  if (!overrides.length) return profile;
  const config: KernelConfig = { ...profile.config };
  for (const o of overrides) {
    const m = /^(?:CONFIG_)?([A-Z0-9_]+)=(.*)$/.exec(o);
    if (!m) throw new ToolError(`--config ${o}: expected CONFIG_NAME=y or CONFIG_NAME=n`);
    const key = m[1] as BooleanKey;
    if (!BOOLEAN_KEYS.includes(key)) {
      throw new ToolError(`--config ${o}: CONFIG_${m[1]} is not an option kmodsim models; ` +
        `known: ${BOOLEAN_KEYS.map((k) => 'CONFIG_' + k).join(', ')}`);
    }
    if (m[2] !== 'y' && m[2] !== 'n') {
      throw new ToolError(`--config ${o}: the value must be y or n`);
    }
    config[key] = m[2] === 'y';
  }
  return { ...profile, config, source: `${profile.source}, --config ${overrides.join(' ')}` };
}

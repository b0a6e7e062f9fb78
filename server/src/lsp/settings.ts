// The `kmodsim.*` settings as the server uses them: defaults filled in, `running` turned into
// the running kernel's module tree, and the workspace-trust rule applied: a path outside every
// workspace folder is honoured only in a trusted workspace (it could point the server at any
// file on the machine). The server cannot tell user settings from workspace settings, so in
// an untrusted workspace every outside path is ignored, and said so in the log.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ForceLoad, PartialSettings, Settings } from './protocol.js';

export const DEFAULT_SETTINGS: Settings = {
  kernel: '',
  buildDirs: [],
  force: { modversions: false, vermagic: false },
  kernelConfig: { forceLoad: 'profile', sigEnforce: false, lockdown: 'none' },
};

// What the server works with after the trust rule.
export interface EffectiveSettings extends Settings {
  // The kernel argument for resolveKernel(): '' (bundled) or an absolute path.
  kernelPath: string;
  // Settings that were dropped, with why, for the log and the report.
  ignored: string[];
  trace: 'off' | 'messages' | 'verbose';
}

// 'y'/'n' override the profile. A boolean is what this setting was before it had three states:
// true meant 'y', false meant the profile's value.
function forceLoadOf(v: unknown): ForceLoad | undefined {
  if (v === 'profile' || v === 'y' || v === 'n') return v;
  if (typeof v === 'boolean') return v ? 'y' : 'profile';
  return undefined;
}

function bool(v: unknown, fallback: boolean): boolean {
  return typeof v === 'boolean' ? v : fallback;
}

// VS Code answers workspace/configuration for `kmodsim` with nested objects; other clients
// may send dotted keys. Both are accepted.
export function normalizeSettings(raw: unknown): PartialSettings & { trace?: string } {
  if (!raw || typeof raw !== 'object') return {};
  const r = raw as Record<string, unknown>;
  const nested = (key: string): Record<string, unknown> => {
    const v = r[key];
    const out: Record<string, unknown> = v && typeof v === 'object' ? { ...v } : {};
    for (const [k, value] of Object.entries(r)) {
      if (k.startsWith(key + '.')) out[k.slice(key.length + 1)] = value;
    }
    return out;
  };
  const force = nested('force');
  const config = nested('kernelConfig');
  const trace = nested('trace');
  const lockdown = config.lockdown;
  return {
    kernel: typeof r.kernel === 'string' ? r.kernel : undefined,
    buildDirs: Array.isArray(r.buildDirs)
      ? r.buildDirs.filter((d): d is string => typeof d === 'string') : undefined,
    force: {
      modversions: typeof force.modversions === 'boolean' ? force.modversions : undefined,
      vermagic: typeof force.vermagic === 'boolean' ? force.vermagic : undefined,
    },
    kernelConfig: {
      forceLoad: forceLoadOf(config.forceLoad),
      sigEnforce: typeof config.sigEnforce === 'boolean' ? config.sigEnforce : undefined,
      lockdown: lockdown === 'none' || lockdown === 'integrity' || lockdown === 'confidentiality'
        ? lockdown : undefined,
    },
    trace: typeof trace.server === 'string' ? trace.server : undefined,
  };
}

export function isInside(file: string, folders: string[]): boolean {
  return folders.some((f) => {
    const rel = path.relative(f, file);
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  });
}

// Where a path really leads: a symlink inside the workspace may point anywhere. A path that
// does not exist yet resolves through its nearest existing ancestor.
export function realPath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    const parent = path.dirname(p);
    return parent === p ? p : path.join(realPath(parent), path.basename(p));
  }
}

export function effectiveSettings(raw: PartialSettings & { trace?: string }, folders: string[],
  trusted: boolean): EffectiveSettings {
  const d = DEFAULT_SETTINGS;
  const ignored: string[] = [];
  const base = folders[0] ?? process.cwd();
  const allowed = (p: string, what: string) => {
    const real = realPath(p);
    if (trusted || isInside(real, folders.map(realPath))) return true;
    const via = real !== p ? ` (it leads to ${real})` : '';
    ignored.push(`${what} '${p}'${via} is outside the workspace and the workspace is not ` +
      'trusted');
    return false;
  };

  let kernel = raw.kernel ?? d.kernel;
  let kernelPath = '';
  if (kernel === 'running') {
    kernelPath = path.join('/lib/modules', os.release());
  } else if (kernel) {
    kernelPath = path.resolve(base, kernel);
  }
  if (kernelPath && !allowed(kernelPath, 'kmodsim.kernel')) {
    kernel = '';
    kernelPath = '';
  }

  const buildDirs = (raw.buildDirs ?? d.buildDirs).map((b) => path.resolve(base, b))
    .filter((b) => allowed(b, 'kmodsim.buildDirs entry'));
  const trace = raw.trace === 'messages' || raw.trace === 'verbose' ? raw.trace : 'off';
  return {
    kernel, kernelPath, buildDirs, ignored, trace,
    force: {
      modversions: bool(raw.force?.modversions, d.force.modversions),
      vermagic: bool(raw.force?.vermagic, d.force.vermagic),
    },
    kernelConfig: {
      forceLoad: forceLoadOf(raw.kernelConfig?.forceLoad) ?? d.kernelConfig.forceLoad,
      sigEnforce: bool(raw.kernelConfig?.sigEnforce, d.kernelConfig.sigEnforce),
      lockdown: raw.kernelConfig?.lockdown ?? d.kernelConfig.lockdown,
    },
  };
}

// The kernel command line that the kernel-side settings stand for.
export function bootArgsOf(s: Pick<Settings, 'kernelConfig'>): string {
  const args: string[] = [];
  if (s.kernelConfig.sigEnforce) args.push('module.sig_enforce=1');
  if (s.kernelConfig.lockdown !== 'none') args.push(`lockdown=${s.kernelConfig.lockdown}`);
  return args.join(' ');
}

// A key for everything that changes a simulation's result, so cached results can be kept
// while it stays the same.
export function simulationKey(s: EffectiveSettings): string {
  return JSON.stringify([s.kernelPath, s.force, s.kernelConfig]);
}

// The target kernel of the settings: its profile (read or captured once per path, as that
// costs from 50 ms for the bundled JSON to a few seconds for a headers tree), the
// CONFIG_MODULE_FORCE_LOAD override on top, and the names and files of its module tree for
// modprobe.d completion and checking.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { moduleNameOf } from '../cli/check.js';
import { bundledProfilePath, resolveKernel } from '../cli/target.js';
import type { KernelProfile } from '../kernel/profile.js';
import type { EffectiveSettings } from './settings.js';
import type { TargetItem } from './protocol.js';

export interface Target {
  profile: KernelProfile;
  // "6.1.0-57-amd64 (bundled profile)"
  label: string;
  // Why the configured kernel could not be used, when the bundled profile stands in.
  fallback?: string;
}

const profiles = new Map<string, KernelProfile>();

function loadProfile(kernelPath: string): KernelProfile {
  let p = profiles.get(kernelPath);
  if (!p) {
    p = resolveKernel(kernelPath || undefined);
    profiles.set(kernelPath, p);
  }
  return p;
}

export function targetOf(s: EffectiveSettings): Target {
  let profile: KernelProfile;
  let fallback: string | undefined;
  try {
    profile = loadProfile(s.kernelPath);
  } catch (e) {
    fallback = `kmodsim.kernel '${s.kernel}': ${(e as Error).message}; ` +
      'using the bundled profile instead';
    profile = loadProfile('');
  }
  const bundled = !s.kernelPath || fallback !== undefined;
  const label = `${profile.release}${bundled ? ' (bundled profile)' : ''}`;
  const forceLoad = s.kernelConfig.forceLoad;
  if (forceLoad !== 'profile' && profile.config.MODULE_FORCE_LOAD !== (forceLoad === 'y')) {
    profile = { ...profile, config: { ...profile.config, MODULE_FORCE_LOAD: forceLoad === 'y' } };
  }
  return { profile, label, fallback };
}

// The kernel's module tree, by module name ('-' as '_'), from modules.dep or modules.order.
const trees = new Map<string, Map<string, string>>();

export function treeModules(profile: KernelProfile): Map<string, string> {
  const dir = profile.modulesDir;
  if (!dir) return exporters(profile);
  let map = trees.get(dir);
  if (map) return map;
  map = new Map();
  const add = (rel: string) => {
    const name = moduleNameOf(rel);
    if (!map!.has(name)) map!.set(name, path.join(dir, rel));
  };
  const listed = ['modules.dep', 'modules.order'].map((f) => path.join(dir, f))
    .find((f) => fs.existsSync(f));
  if (listed) {
    for (const line of fs.readFileSync(listed, 'utf8').split('\n')) {
      const rel = line.split(':')[0].trim();
      if (!rel) continue;
      // modules.order names the .ko; the tree may hold it compressed.
      const found = ['', '.xz', '.zst', '.gz'].map((x) => rel + x)
        .find((r) => fs.existsSync(path.join(dir, r)));
      if (found) add(found);
    }
  }
  trees.set(dir, map);
  return map;
}

// A saved profile has no module tree, but its Module.symvers names every module that exports
// a symbol: those names, without a file ('').
const exporterNames = new WeakMap<KernelProfile, Map<string, string>>();

function exporters(profile: KernelProfile): Map<string, string> {
  let map = exporterNames.get(profile);
  if (map) return map;
  map = new Map();
  for (const e of profile.exports.values()) {
    if (e.owner === 'vmlinux') continue;
    map.set(moduleNameOf(e.owner), '');
  }
  exporterNames.set(profile, map);
  return map;
}

// The kernels *Select target kernel* offers: the bundled profiles, the running kernel's tree,
// and every /lib/modules/<release> with its headers.
export function availableTargets(): TargetItem[] {
  const out: TargetItem[] = [];
  const dir = path.dirname(bundledProfilePath());
  for (const f of fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []) {
    if (!f.endsWith('.json')) continue;
    const file = path.join(dir, f);
    out.push({ label: `${f.replace(/\.json$/, '')} (bundled profile)`,
      value: file === bundledProfilePath() ? '' : file, description: file });
  }
  out.push({ label: 'running', value: 'running',
    description: 'the kernel this machine runs (/lib/modules/$(uname -r))' });
  const lib = '/lib/modules';
  for (const rel of fs.existsSync(lib) ? fs.readdirSync(lib).sort() : []) {
    const d = path.join(lib, rel);
    if (fs.existsSync(path.join(d, 'build')) || fs.existsSync(path.join(d, 'kernel'))) {
      out.push({ label: rel, value: d, description: d });
    }
  }
  return out;
}

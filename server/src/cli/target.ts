// The --kernel argument: a saved profile (.json), a kernel headers/build directory, or
// /lib/modules/<release>; empty means the bundled Debian 6.1.0-57-amd64 profile.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { captureProfile } from '../kernel/capture.js';
import type { KernelProfile } from '../kernel/profile.js';
import { loadProfileFile } from '../kernel/profile-json.js';

export const BUNDLED_PROFILE = 'debian-6.1.0-57-amd64.json';

// The bundled profiles sit in profiles/ at the package root, both beside the sources and
// beside the bundle in dist/.
export function bundledProfilePath(name = BUNDLED_PROFILE): string {
  const candidates = [
    path.join(__dirname, '..', 'profiles', name),
    path.join(__dirname, '..', '..', '..', 'profiles', name),
  ];
  return candidates.find((p) => fs.existsSync(p)) ?? candidates[0];
}

export function resolveKernel(arg: string | undefined): KernelProfile {
  if (!arg) return loadProfileFile(bundledProfilePath());
  if (arg.endsWith('.json')) return loadProfileFile(arg);
  const stat = fs.statSync(arg, { throwIfNoEntry: false });
  if (!stat) throw new Error(`${arg}: no such profile, headers directory or module tree`);
  if (stat.isDirectory()) {
    // /lib/modules/<release>: its build/ link has the headers, the rest is the module tree.
    if (fs.existsSync(path.join(arg, 'kernel'))) {
      return captureProfile(arg, { modulesDir: arg });
    }
    return captureProfile(arg);
  }
  return loadProfileFile(arg);
}

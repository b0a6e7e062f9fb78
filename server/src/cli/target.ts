// The --kernel argument: a saved profile (.json), a kernel headers/build directory, a
// /lib/modules/<release>, or `running` (the running kernel's /lib/modules/$(uname -r), as the
// language server's setting has it); empty means the bundled Debian 6.1.0-57-amd64 profile.

import * as fs from 'node:fs';
import * as os from 'node:os';
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

// ROOT/usr/src/linux-headers-<release> has its module tree at ROOT/lib/modules/<release>,
// where an in-tree module gives sizeof(struct module).
function moduleTreeBeside(headers: string): string | undefined {
  const base = path.basename(path.resolve(headers));
  if (!base.startsWith('linux-headers-')) return undefined;
  const tree = path.join(headers, '..', '..', '..', 'lib', 'modules',
    base.slice('linux-headers-'.length));
  return fs.existsSync(path.join(tree, 'kernel')) ? tree : undefined;
}

export function resolveKernel(arg: string | undefined): KernelProfile {
  if (!arg) return loadProfileFile(bundledProfilePath());
  if (arg === 'running') {
    arg = path.join('/lib/modules', os.release());
    if (!fs.existsSync(arg)) {
      throw new Error(`-k running: ${arg} (the running kernel's) does not exist`);
    }
  }
  const stat = fs.statSync(arg, { throwIfNoEntry: false });
  if (!stat) throw new Error(`${arg}: no such profile, headers directory or module tree`);
  if (!stat.isDirectory() && !stat.isFile()) {
    throw new Error(`${arg}: not a regular file or a directory, so not a profile, headers ` +
      'directory or module tree');
  }
  if (!stat.isDirectory()) return loadProfileFile(arg);
  // /lib/modules/<release>: its build/ link has the headers, the rest is the module tree.
  if (fs.existsSync(path.join(arg, 'kernel'))) return captureProfile(arg, { modulesDir: arg });
  const tree = moduleTreeBeside(arg);
  if (tree) return captureProfile(arg, { modulesDir: tree });
  try {
    return captureProfile(arg);
  } catch (e) {
    if (!/sizeof\(struct module\)/.test((e as Error).message)) throw e;
    throw new Error(`${arg}: a headers directory alone does not give sizeof(struct module): ` +
      'give -k /lib/modules/<release> instead, or capture a profile once with ' +
      `\`kmodsim profile capture ${arg} --modules /lib/modules/<release> -o FILE.json\` ` +
      '(or --struct-module-size N) and give -k FILE.json');
  }
}

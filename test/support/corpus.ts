// Where the fetched Debian kernels and the project's own built test modules are. Both are made
// by `bash scripts/setup.sh`; a test that needs them fails with that hint rather than skipping.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { captureProfile } from '../../server/src/kernel/capture.js';
import type { KernelProfile } from '../../server/src/kernel/profile.js';

export const CACHE = process.env.KMODSIM_CACHE ?? path.join(os.homedir(), '.cache', 'kmodsim');
export const ROOT = path.join(CACHE, 'root');
export const REL_61 = '6.1.0-57-amd64';
export const REL_612 = '6.12.107+deb12-amd64';
export const REPO = path.resolve(__dirname, '..', '..');

export function need(file: string): string {
  if (!fs.existsSync(file)) {
    throw new Error(`${file} is missing: run \`bash scripts/setup.sh\` first`);
  }
  return file;
}

export function modulesDir(release: string): string {
  return need(path.join(ROOT, 'lib', 'modules', release));
}

export function headersDir(release: string): string {
  return need(path.join(ROOT, 'usr', 'src', `linux-headers-${release}`));
}

export function oldAbiRelease(): string {
  const abi = fs.readFileSync(need(path.join(CACHE, 'old-abi')), 'utf8').trim();
  return `6.1.0-${abi}-amd64`;
}

export function testModule(release: string, name: string): string {
  return need(path.join(REPO, 'test', 'modules', 'build', release, `${name}.ko`));
}

const profiles = new Map<string, KernelProfile>();

export function profileOf(release: string): KernelProfile {
  let p = profiles.get(release);
  if (!p) {
    p = captureProfile(headersDir(release), { modulesDir: modulesDir(release) });
    profiles.set(release, p);
  }
  return p;
}

// The older 6.1 ABI ships headers only; struct module has the same size across one series'
// ABIs (the ABI number changes when it would not), so it is taken from the current tree.
export function oldAbiProfile(): KernelProfile {
  const rel = oldAbiRelease();
  let p = profiles.get(rel);
  if (!p) {
    p = captureProfile(headersDir(rel), { structModuleSize: profileOf(REL_61).structModuleSize });
    profiles.set(rel, p);
  }
  return p;
}

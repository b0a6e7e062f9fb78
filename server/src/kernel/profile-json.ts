// The saved form of a KernelProfile (`kmodsim profile capture -o FILE.json`). Exports are
// stored as rows, which keeps a Debian kernel's 25,000 exports near 1.5 MB.

import * as fs from 'node:fs';
import type { KernelExport, KernelProfile } from './profile.js';

type ExportRow = [name: string, crc: number | null, gplOnly: 0 | 1, namespace: string,
  owner: string];

interface SavedProfile extends Omit<KernelProfile, 'exports' | 'builtin'> {
  exports: ExportRow[];
  builtin: string[];
}

export function profileToJson(p: KernelProfile): string {
  const rows: ExportRow[] = [];
  for (const [name, e] of p.exports) {
    rows.push([name, e.crc ?? null, e.gplOnly ? 1 : 0, e.namespace, e.owner]);
  }
  const saved: SavedProfile = { ...p, exports: rows, builtin: [...p.builtin].sort() };
  delete saved.modulesDir;
  const { exports, ...head } = saved;
  // One export per line keeps the file diffable.
  const body = JSON.stringify(head, null, 1).replace(/\n}$/, '');
  return `${body},\n "exports": [\n${exports.map((r) => '  ' + JSON.stringify(r)).join(',\n')}` +
    '\n ]\n}\n';
}

export class ProfileError extends Error {}

export function profileFromJson(text: string, source = 'profile'): KernelProfile {
  let saved: SavedProfile;
  try {
    saved = JSON.parse(text) as SavedProfile;
  } catch (e) {
    throw new ProfileError(`${source}: not JSON: ${(e as Error).message}`);
  }
  if (saved.format !== 'kmodsim-profile/1') {
    throw new ProfileError(`${source}: not a kmodsim profile (format ${String(saved.format)})`);
  }
  const exports = new Map<string, KernelExport>();
  for (const [name, crc, gpl, namespace, owner] of saved.exports) {
    exports.set(name, { crc: crc ?? undefined, gplOnly: gpl === 1, namespace, owner });
  }
  return { ...saved, exports, builtin: new Set(saved.builtin), source };
}

export function loadProfileFile(file: string): KernelProfile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ProfileError(`${file}: cannot read: ${(e as Error).message}`);
  }
  return profileFromJson(text, file);
}

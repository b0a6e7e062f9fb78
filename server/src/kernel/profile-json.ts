// The saved form of a KernelProfile (`kmodsim profile capture -o FILE.json`). Exports are
// stored as rows, which keeps a Debian kernel's 25,000 exports near 1.5 MB.

import * as fs from 'node:fs';
import type { KernelExport, KernelProfile } from './profile.js';
import { seriesOf } from './profile.js';

type ExportRow = [name: string, crc: number | null, gplOnly: 0 | 1, namespace: string,
  owner: string];

interface SavedProfile extends Omit<KernelProfile, 'exports' | 'builtin'> {
  exports: ExportRow[];
  builtin: string[];
}

// The text each profile was read from: worker threads are given it as it is, instead of the
// profile written out again.
const savedTexts = new WeakMap<KernelProfile, string>();

export function savedProfileText(p: KernelProfile): string {
  return savedTexts.get(p) ?? profileToJson(p);
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
  if (!saved || typeof saved !== 'object' || saved.format !== 'kmodsim-profile/1') {
    throw new ProfileError(`${source}: not a kmodsim profile (format ${String(saved?.format)})`);
  }
  validate(saved, source);
  const exports = new Map<string, KernelExport>();
  for (const [name, crc, gpl, namespace, owner] of saved.exports) {
    exports.set(name, { crc: crc ?? undefined, gplOnly: gpl === 1, namespace, owner });
  }
  const profile = { ...saved, exports, builtin: new Set(saved.builtin), source };
  savedTexts.set(profile, text);
  return profile;
}

const CONFIG_BOOLEANS = ['MODVERSIONS', 'MODULE_FORCE_LOAD', 'MODULE_UNLOAD', 'MODULE_SIG',
  'MODULE_SIG_FORCE', 'MODULE_ALLOW_MISSING_NAMESPACE_IMPORTS', 'LIVEPATCH',
  'STRICT_MODULE_RWX', 'RETPOLINE', 'MODULE_ALLOW_BTF_MISMATCH'];

// A hand-edited profile is checked field by field, so a mistake is named where it is and not
// found later as a crash in the loader.
function validate(p: SavedProfile, source: string) {
  const bad = (field: string, what: string): never => {
    throw new ProfileError(`${source}: field "${field}": ${what}`);
  };
  const str = (field: string, v: unknown) => {
    if (typeof v !== 'string') bad(field, `expected a string, found ${JSON.stringify(v)}`);
  };
  str('release', p.release);
  if (p.series !== '6.1' && p.series !== '6.12') {
    bad('series', `${JSON.stringify(p.series)} is not a series kmodsim models (6.1, 6.12)`);
  }
  if (seriesOf(p.release) !== p.series) {
    bad('series', `"${p.series}" does not match release "${p.release}"`);
  }
  if (p.arch !== 'x86_64' && p.arch !== 'arm64') {
    bad('arch', `${JSON.stringify(p.arch)} is not x86_64 or arm64`);
  }
  str('vermagic', p.vermagic);
  if (!p.config || typeof p.config !== 'object') bad('config', 'expected an object');
  for (const key of CONFIG_BOOLEANS) {
    const v = (p.config as unknown as Record<string, unknown>)[key];
    if (typeof v !== 'boolean') bad(`config.${key}`, `expected true or false, found ${v}`);
  }
  const d = p.config.MODULE_DECOMPRESS;
  if (d !== null && d !== 'xz' && d !== 'gzip' && d !== 'zstd') {
    bad('config.MODULE_DECOMPRESS', `expected null, "xz", "gzip" or "zstd", found ${d}`);
  }
  if (!p.rules || typeof p.rules.missingCrcFatal !== 'boolean') {
    bad('rules.missingCrcFatal', 'expected true or false');
  }
  if (p.rules.thisModuleCountMessage !== 'only-one'
    && p.rules.thisModuleCountMessage !== 'exactly-one') {
    bad('rules.thisModuleCountMessage', 'expected "only-one" or "exactly-one"');
  }
  if (!Number.isSafeInteger(p.structModuleSize) || p.structModuleSize <= 0) {
    bad('structModuleSize', `expected a positive number of bytes, found ${p.structModuleSize}`);
  }
  if (!Array.isArray(p.exports)) bad('exports', 'expected an array of export rows');
  p.exports.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== 5 || typeof row[0] !== 'string'
      || (row[1] !== null && typeof row[1] !== 'number') || (row[2] !== 0 && row[2] !== 1)
      || typeof row[3] !== 'string' || typeof row[4] !== 'string') {
      bad(`exports[${i}]`, 'expected [name, crc or null, 0 or 1, namespace, owner], found ' +
        JSON.stringify(row).slice(0, 80));
    }
  });
  if (!Array.isArray(p.builtin) || p.builtin.some((b) => typeof b !== 'string')) {
    bad('builtin', 'expected an array of module names');
  }
  if (!Array.isArray(p.trustedSigners)) bad('trustedSigners', 'expected an array');
  p.trustedSigners.forEach((t, i) => {
    if (!t || typeof t.issuer !== 'string' || typeof t.serialHex !== 'string') {
      bad(`trustedSigners[${i}]`, 'expected an object with issuer and serialHex strings');
    }
  });
  if (typeof p.spectreV2Mitigated !== 'boolean') {
    bad('spectreV2Mitigated', 'expected true or false');
  }
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

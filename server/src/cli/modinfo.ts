// `kmodsim modinfo FILE...`: what Debian's modinfo (kmod 30, +XZ +ZSTD -ZLIB) prints for each
// file, then kmodsim's block of parameter defaults. As modinfo does, a file that fails is
// reported on its own and the others are still printed:
// - a path that is not a regular file, or whose name has no module extension kmod knows
//   (.ko.gz without zlib), is taken as a module name and is "not found";
// - a file kmod cannot read as a module gets its filename line, then an error with the
//   module's name and strerror(): EINVAL for fewer than 6 bytes, ENOEXEC for what is not ELF
//   or does not decompress, ENOENT for an ELF file without .modinfo.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { decompressModule, detectCompression } from '../module/decompress.js';
import { ModuleImage } from '../module/image.js';
import { readModuleSignature } from '../module/signature.js';
import { formatModinfo, formatParamDefaults } from '../report/modinfo.js';

const MODULE_NAME = /\.ko(\.xz|\.zst)?$/;

export interface ModinfoOutput {
  out: string;
  // What modinfo says on stderr after "modinfo: ERROR: ".
  error?: string;
}

// kmod's module name of a path: the base name up to its first dot, '-' read as '_'.
function modnameOf(file: string): string {
  return path.basename(file).replace(/\..*$/, '').replace(/-/g, '_');
}

export function modinfoOne(file: string): ModinfoOutput {
  const st = fs.statSync(file, { throwIfNoEntry: false });
  if (!st?.isFile() || !MODULE_NAME.test(file)) {
    return { out: '', error: `Module ${file} not found.` };
  }
  const header = formatModinfo(file, new Uint8Array(0)).split('\n')[0] + '\n';
  const cannot = (why: string) => ({ out: header,
    error: `could not get modinfo from '${modnameOf(file)}': ${why}` });
  let raw: Uint8Array;
  try {
    raw = new Uint8Array(fs.readFileSync(file));
  } catch (e) {
    return cannot((e as Error).message);
  }
  if (raw.length < 6) return cannot('Invalid argument');
  const kind = detectCompression(raw);
  let bytes = raw;
  if (kind === 'xz' || kind === 'zstd') {
    const r = decompressModule(raw, kind);
    // kmod's own words for a stream it cannot decode; kmodsim's when its decoder is missing.
    if (!r.ok) return cannot(r.error.code === 'unavailable' ? r.error.what : 'Exec format error');
    bytes = r.bytes;
  }
  const sig = readModuleSignature(bytes);
  let image: ModuleImage;
  try {
    image = ModuleImage.open(sig.present ? bytes.subarray(0, sig.elfLength) : bytes);
  } catch {
    return cannot('Exec format error');
  }
  if (!image.elf.section('.modinfo')) return cannot('No such file or directory');
  return { out: formatModinfo(file, bytes, image) + formatParamDefaults(image) };
}

// `kmodsim modinfo`: the text kmod's `modinfo <file>` prints (kmod 30 with libcrypto), rebuilt
// from the module image, followed by kmodsim's own block of parameter defaults.
//
// kmod's layout, as observed and checked against every module of two Debian trees:
//   - `filename:` first, with the path made absolute by prefixing the working directory (no
//     `.`/`..` clean-up, no symlink resolution);
//   - every .modinfo string in file order, `key:` padded as formatModinfoField does, values
//     printed raw (an embedded newline simply continues on the next line);
//   - the signature fields, which libkmod appends to the same list;
//   - last, the `parm:` lines, one per distinct parameter name (see mergeParams).
// When the ELF cannot be read, kmod has already printed `filename:` and stops there.

import { ModuleImage } from '../module/image.js';
import type { ModinfoEntry } from '../module/modinfo.js';
import type { ModuleParam } from '../module/params.js';
import { formatModinfoField, modinfoSignatureFields } from '../module/signature.js';

// kmod prints `parm:` with `%-16s`, which is not what formatModinfoField gives for a 4-char key.
const PARM_PREFIX = 'parm:'.padEnd(16);

interface MergedParam {
  name: string;
  description?: string;
  type?: string;
}

/**
 * kmod's merge of `parm=` and `parmtype=` entries: split at the first ':' (entries without one
 * are dropped, kmod complains on stderr), one record per name, a later entry of the same kind
 * replacing an earlier one. kmod pushes each new name at the head of a list, so the records
 * come out in reverse order of each name's first appearance.
 */
export function mergeParams(entries: readonly ModinfoEntry[]): MergedParam[] {
  const byName = new Map<string, MergedParam>();
  for (const e of entries) {
    if (e.key !== 'parm' && e.key !== 'parmtype') continue;
    const colon = e.value.indexOf(':');
    if (colon < 0) continue;
    const name = e.value.slice(0, colon);
    let p = byName.get(name);
    if (!p) {
      p = { name };
      byName.set(name, p);
    }
    if (e.key === 'parm') p.description = e.value.slice(colon + 1);
    else p.type = e.value.slice(colon + 1);
  }
  return [...byName.values()].reverse();
}

function parmLine(p: MergedParam): string {
  if (p.description === undefined) return `${PARM_PREFIX}${p.name}:${p.type ?? ''}`;
  if (p.type === undefined) return `${PARM_PREFIX}${p.name}:${p.description}`;
  return `${PARM_PREFIX}${p.name}:${p.description} (${p.type})`;
}

// kmod's path_make_absolute_cwd.
function kmodFilename(file: string): string {
  return file.startsWith('/') ? file : `${process.cwd()}/${file}`;
}

/**
 * Exactly what kmod's `modinfo <file>` writes to stdout for one file. `bytes` is the
 * decompressed module, signature trailer included; `image` may be passed when the caller has
 * already opened it.
 */
export function formatModinfo(file: string, bytes: Uint8Array, image?: ModuleImage): string {
  const lines = [formatModinfoField('filename', kmodFilename(file))];
  let entries: readonly ModinfoEntry[];
  try {
    entries = (image ?? ModuleImage.open(bytes)).modinfo.entries;
  } catch {
    return lines.join('\n') + '\n';
  }
  for (const e of entries) {
    if (e.key === 'parm' || e.key === 'parmtype') continue;
    lines.push(formatModinfoField(e.key, e.value));
  }
  for (const [key, value] of modinfoSignatureFields(bytes)) {
    lines.push(formatModinfoField(key, value));
  }
  for (const p of mergeParams(entries)) lines.push(parmLine(p));
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// kmodsim's block. It starts with a line that is exactly `kmodsim:`, which kmod never prints
// (its `key:` lines always carry padding), so `sed '/^kmodsim:$/,$d'` recovers kmod's part.

export const PARAM_BLOCK_HEADER = 'kmodsim:';

const STT_SECTION = 3;

// Control characters would break the one-line-per-parameter promise.
function escape(text: string): string {
  return text.replace(/[\x00-\x1f\x7f\\]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    if (c === '\\') return '\\\\';
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

function typeLabel(p: ModuleParam): string {
  let t: string = p.type;
  if (p.type === 'string' && p.stringMaxLen !== undefined) t += `[${p.stringMaxLen}]`;
  if (p.arrayMax !== undefined) t += `[${p.arrayMax}]`;
  return t;
}

// A custom ops struct is usually static, so params.ts only sees a section-relative pointer;
// the symbol table still names the object at that place.
function customOpsName(image: ModuleImage, p: ModuleParam): string | undefined {
  if (p.opsSymbol) return p.opsSymbol;
  const sec = image.elf.section('__param');
  const symbols = image.elf.symbols;
  if (!sec || !symbols || p.arrayMax !== undefined) return undefined;
  const ops = image.relocated.pointerAt(sec.index, p.offset + 16);
  if (!ops || ops.kind !== 'place') return undefined;
  for (let i = 1; i < symbols.count; i++) {
    if (symbols.shndx[i] !== ops.section || symbols.valueLo[i] !== ops.offset) continue;
    if (symbols.valueHi[i] !== 0 || symbols.type(i) === STT_SECTION) continue;
    const name = symbols.name(i);
    if (name) return name;
  }
  return undefined;
}

function defaultText(image: ModuleImage, p: ModuleParam): string {
  if (p.type === 'custom') {
    return `custom ops ${customOpsName(image, p) ?? '(unnamed)'}: default unknown`;
  }
  if (p.defaultValue === undefined) return 'default unknown';
  let text = `default: ${escape(p.defaultValue)}`;
  if (p.type === 'string' || (p.type === 'charp' && p.arrayMax === undefined)) {
    // Quoted so an empty or space-ended string stays visible; NULL keeps sysfs's spelling.
    if (!(p.type === 'charp' && p.defaultValue === '(null)')) {
      text = `default: "${escape(p.defaultValue)}"`;
    }
  }
  if (p.arrayMax !== undefined) {
    const all = p.arrayDefaults ?? [];
    text += p.arrayCount !== undefined
      ? `  (count ${p.arrayCount} of ${p.arrayMax})`
      : `  (${p.arrayMax} elements, no count variable)`;
    // sysfs shows only the counted elements; the rest are still initialised in the image.
    const shown = p.arrayCount ?? p.arrayMax;
    if (all.length > shown) text += `  all: ${escape(all.join(','))}`;
  }
  return text;
}

function flagText(p: ModuleParam): string {
  const out: string[] = [];
  if (p.flags & 1) out.push('unsafe');
  if (p.flags & 2) out.push('hwparam');
  return out.length ? `  ${out.join(' ')}` : '';
}

/**
 * kmodsim's block after kmod's output: one line per `__param` entry with its type, sysfs
 * permission and the value the parameter has before any argument is applied, then any problem
 * found while decoding it. Parameters are listed in the order of kmod's `parm:` lines, then
 * those that have no modinfo entry, in `__param` order.
 */
export function formatParamDefaults(image: ModuleImage): string {
  const params = image.params;
  const lines = [PARAM_BLOCK_HEADER];
  if (params.length === 0) {
    lines.push('  (no parameters)');
    return lines.join('\n') + '\n';
  }
  const rank = new Map<string, number>();
  mergeParams(image.modinfo.entries).forEach((m, i) => rank.set(m.name, i));
  const ordered = params
    .map((p, i) => ({ p, key: rank.get(p.name) ?? rank.size + i }))
    .sort((a, b) => a.key - b.key)
    .map((x) => x.p);
  const nameWidth = Math.max(...ordered.map((p) => escape(p.name).length));
  const typeWidth = Math.max(...ordered.map((p) => typeLabel(p).length));
  for (const p of ordered) {
    const perm = `perm ${p.perm.toString(8).padStart(4, '0')}`;
    lines.push(`  ${escape(p.name).padEnd(nameWidth)}  ${typeLabel(p).padEnd(typeWidth)}  ` +
      `${perm}  ${defaultText(image, p)}${flagText(p)}`);
    for (const problem of p.problems) lines.push(`    problem: ${escape(problem)}`);
  }
  return lines.join('\n') + '\n';
}

// The check of one `options MOD ...` string against the module's parameters. kmod hands the
// string to the kernel untouched (tabs aside), so the kernel's parse_args decides: each
// argument is split off with next_arg and run through the engine's parse_args on its own,
// which gives the kernel's exact lines for that argument and lets the finding sit on it.
// Things the kernel accepts but a person did not mean (a comment, a placeholder) are added
// as warnings of our own.

import { ArgBuffer, nextArg, parameq, parseArgs, skipSpaces } from '../params/index.js';
import type { KernelParamSpec } from '../params/index.js';
import { errnoName, strerror } from '../load/errno.js';

export interface OptionFinding {
  severity: 'error' | 'warning' | 'info';
  message: string;
  // Offsets into the options string (UTF-16), end exclusive.
  start: number;
  end: number;
  // The parameter the argument names, when the module has it.
  parameter?: string;
}

export interface OptionArgument {
  text: string;
  start: number;
  end: number;
  name: string;
  value: string | null;
}

export interface CheckOptionsOptions {
  lockdown?: boolean;
}

// UTF-8 byte offsets (what next_arg works on) back to string offsets.
function byteToCharMap(text: string): number[] {
  const map: number[] = [];
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.codePointAt(i)!;
    const n = code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    for (let k = 0; k < n; k++) map[bytes + k] = i;
    bytes += n;
    if (code >= 0x10000) i++;
  }
  map[bytes] = text.length;
  return map;
}

// The arguments as the kernel's next_arg splits them, with where each sits in the string.
export function splitOptionArguments(text: string): OptionArgument[] {
  const original = ArgBuffer.from(text);
  const raw = original.bytes.slice();
  const toChar = byteToCharMap(text);
  const buf = ArgBuffer.from(text);
  const out: OptionArgument[] = [];
  let offset = skipSpaces(buf, 0);
  const decoder = new TextDecoder();
  while (buf.at(offset) !== 0) {
    const arg = nextArg(buf, offset);
    let end = arg.next;
    while (end > offset && isSpaceByte(raw[end - 1])) end--;
    const start = toChar[offset] ?? text.length;
    const stop = toChar[end] ?? text.length;
    out.push({
      text: decoder.decode(raw.subarray(offset, end)), start, end: stop,
      name: buf.cstring(arg.param).text,
      value: arg.val === null ? null : buf.cstring(arg.val).text,
    });
    offset = arg.next;
  }
  return out;
}

function isSpaceByte(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0;
}

// Values copied from documentation: `<n>`, `X`, `xxx`, `...`, `N/A`-like forms.
export function looksLikePlaceholder(value: string): boolean {
  return /^<[^<>]*>$/.test(value) || /^(X+|x{2,}|\.\.\.|\?+)$/.test(value)
    || /^\[[^\]]*\]$/.test(value);
}

function typeName(p: KernelParamSpec): string {
  let t: string = p.type;
  if (p.type === 'string' && p.stringMaxLen !== undefined) t += `[${p.stringMaxLen}]`;
  if (p.arrayMax !== undefined) t = `array of ${t} (at most ${p.arrayMax})`;
  return t;
}

export function checkOptions(moduleName: string, options: string, params: KernelParamSpec[],
  opts: CheckOptionsOptions = {}): OptionFinding[] {
  const findings: OptionFinding[] = [];
  const args = splitOptionArguments(options);
  const known = (name: string) => params.find((p) => parameq(name, p.name));

  const comment = args.findIndex((a) => a.text.startsWith('#'));
  const commentStart = comment >= 0 ? args[comment].start : options.length;
  if (comment >= 0) {
    const names = args.slice(comment).map((a) => `'${a.text}'`).join(', ');
    findings.push({ severity: 'warning', start: args[comment].start, end: options.length,
      message: 'kmod does not strip comments from an options line: the kernel receives ' +
        `${names} as parameters` });
  }

  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.value === null && a.name === '--') {
      // parse_args stops at a bare `--`; load_module warns about what follows.
      const r = parseArgs(moduleName, options.slice(a.start), params, opts);
      if (r.lines.length) {
        findings.push({ severity: 'warning', start: a.start, end: options.length,
          message: r.lines.map((l) => l.text).join('\n') });
      }
      break;
    }
    const r = parseArgs(moduleName, a.text, params, opts);
    const spec = known(a.name);
    const text = r.lines.map((l) => l.text).join('\n');
    const first = findings.length;
    // Inside a comment, what the kernel merely ignores is already said by the comment's
    // warning; only what makes the load fail is said again, on its word.
    if (a.start >= commentStart && !r.errno) continue;
    if (r.errno) {
      let why = `${text}\nthe load fails: ${errnoName(r.errno)} (${strerror(r.errno)})`;
      if (spec?.type === 'invbool' && a.value === null) {
        why += `\n${spec.name} is an invbool: it needs a value (${spec.name}=Y or =N), ` +
          'a bare name is refused';
      }
      findings.push({ severity: 'error', start: a.start, end: a.end, message: why,
        parameter: spec?.name });
    } else if (text) {
      findings.push({ severity: 'warning', start: a.start, end: a.end, message: text,
        parameter: spec?.name });
    }
    for (const note of r.notes) {
      findings.push({ severity: 'info', start: a.start, end: a.end, message: note,
        parameter: spec?.name });
    }
    // A placeholder is the likely cause of the argument's error, if it has one: said there,
    // one problem once; else a warning of its own.
    const placeholder = placeholderNote(a, spec);
    if (!placeholder) continue;
    const same = findings.slice(first).find((f) => f.severity !== 'info');
    if (same) same.message += `\n${placeholder}`;
    else {
      findings.push({ severity: 'warning', start: a.start, end: a.end, parameter: spec?.name,
        message: placeholder });
    }
  }
  return findings;
}

function placeholderNote(a: OptionArgument, spec: KernelParamSpec | undefined):
  string | undefined {
  if (looksLikePlaceholder(a.name)) {
    return `'${a.name}' looks like a placeholder from documentation, not a parameter name`;
  }
  if (a.value === null) return undefined;
  const values = spec?.arrayMax !== undefined ? a.value.split(',') : [a.value];
  const bad = values.filter(looksLikePlaceholder);
  if (!bad.length) return undefined;
  const as = spec ? ` (${spec.name} is ${typeName(spec)})` : '';
  return `'${bad[0]}' looks like a placeholder from documentation; the kernel takes it ` +
    `literally${as}`;
}


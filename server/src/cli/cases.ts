// `kmodsim run CASES`: the oracle's cases-file format, replayed through the simulated kernel.
// The records carry the same fields the real-kernel oracle writes per case, so a simulated run
// and a recorded one can be compared field by field.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { KernelProfile } from '../kernel/profile.js';
import { errnoName } from '../load/errno.js';
import { SimulatedKernel, type OpenMode, type SyscallResult } from '../load/kernel.js';

const ENOENT = 2;
const O_NONBLOCK = 0o4000;

const FLAG_NAMES: Record<string, number> = {
  IGNORE_MODVERSIONS: 1,
  IGNORE_VERMAGIC: 2,
  COMPRESSED_FILE: 4,
};

export interface CaseOptions {
  init: boolean;
  keep: boolean;
  fd: OpenMode;
  paramsNull: boolean;
  settleMs?: number;
  rmmod?: { name: string; flags: number };
}

export interface CaseSpec {
  id: string;
  // 1-based line in the cases file.
  line: number;
  ko: string;
  flags: number;
  // After undoing the escapes.
  params: string;
  options: string;
  opts: CaseOptions;
  // Set when the line could not be understood; the case is then reported with stage "parse".
  parseError?: string;
}

export interface CaseFile {
  // One entry per boot: `!boot` starts the next.
  boots: CaseSpec[][];
}

// What a kernel, real or simulated, answered to one case: the fields the conformance tests
// compare, named as the oracle's JSON names them.
export interface KernelAnswer {
  stage: string;
  rc: number;
  errno: number;
  errno_name: string;
  // Text with /dev/kmsg's \xHH escapes undone.
  kmsg: { level: number; text: string }[];
  taint_before: number;
  taint_after: number;
  // Each module the case left in /proc/modules, its taint letters and sysfs parameters.
  loaded: { name: string; taint: string; parameters: Record<string, string> }[];
}

export interface CaseRecord extends KernelAnswer {
  id: string;
  line: number;
  ko: string;
  params: string | null;
  options: string;
  flags: number;
  call: 'finit_module' | 'init_module' | 'delete_module' | '';
  stage: 'syscall' | 'open' | 'parse';
  rc: 0 | -1;
  boot: number;
  unknowns: string[];
  // Why the simulation cannot decide this case at all (an input it does not model).
  undecidable?: string;
  error?: string;
}

export interface RunOptions {
  profile: KernelProfile;
  bootArgs?: string;
  // The loading process' name, as Lockdown lines print it.
  comm?: string;
  // Where `@mod/` paths point: the kernel's /lib/modules/<release>.
  modulesDir?: string;
  // Where relative ko paths start: the cases file's folder.
  baseDir?: string;
}

// Undoes the cases format's escapes. An unknown escape keeps its backslash, as a shell-free
// format has no better reading of it.
export function unescapeParams(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '\\' || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const n = s[i + 1];
    if (n === 't') out += '\t';
    else if (n === 'n') out += '\n';
    else if (n === 'r') out += '\r';
    else if (n === '\\') out += '\\';
    else if (n === 'x' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 2, i + 4))) {
      out += String.fromCharCode(parseInt(s.slice(i + 2, i + 4), 16));
      i += 2;
    } else {
      out += c + n;
    }
    i++;
  }
  return out;
}

export function parseFlags(text: string): number {
  const t = text.trim();
  if (t === '' || t === '-') return 0;
  let v = 0;
  for (const part of t.split('|').map((p) => p.trim())) {
    if (/^(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)$/i.test(part)) {
      const n = /^0x/i.test(part) ? parseInt(part.slice(2), 16)
        : part.length > 1 && part.startsWith('0') ? parseInt(part, 8) : Number(part);
      if (!Number.isSafeInteger(n) || n > 0xffffffff) {
        throw new Error(`flags out of range: ${part}`);
      }
      v |= n;
      continue;
    }
    const name = part.toUpperCase().replace(/^MODULE_INIT_/, '');
    const bitValue = FLAG_NAMES[name];
    if (bitValue === undefined) throw new Error(`unknown flag: ${part}`);
    v |= bitValue;
  }
  // The syscall takes an int; keep the unsigned reading so 0x80000000 stays 2147483648.
  return v >>> 0;
}

function parseOptions(text: string): CaseOptions {
  const o: CaseOptions = { init: false, keep: false, fd: 'rdonly', paramsNull: false };
  for (const word of text.split(',').map((w) => w.trim()).filter(Boolean)) {
    const eq = word.indexOf('=');
    const key = eq < 0 ? word : word.slice(0, eq);
    const value = eq < 0 ? '' : word.slice(eq + 1);
    if (word === 'init') o.init = true;
    else if (word === 'keep') o.keep = true;
    else if (key === 'fd' && ['rdonly', 'rdwr', 'wronly', 'bad'].includes(value)) {
      o.fd = value as OpenMode;
    } else if (word === 'params=null') o.paramsNull = true;
    else if (key === 'settle' && /^\d+$/.test(value)) o.settleMs = Number(value);
    else if (key === 'rmmod' && value) {
      const colon = value.indexOf(':');
      const name = colon < 0 ? value : value.slice(0, colon);
      const flags = colon < 0 ? O_NONBLOCK : parseFlagsNumber(value.slice(colon + 1));
      o.rmmod = { name, flags };
    } else throw new Error(`unknown option: ${word}`);
  }
  return o;
}

function parseFlagsNumber(s: string): number {
  const n = /^0x/i.test(s) ? parseInt(s.slice(2), 16)
    : /^0[0-7]+$/.test(s) ? parseInt(s, 8) : Number(s);
  if (!Number.isInteger(n)) throw new Error(`bad rmmod flags: ${s}`);
  return n;
}

export function parseCases(text: string): CaseFile {
  const boots: CaseSpec[][] = [[]];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].replace(/\r$/, '');
    if (raw.trim() === '' || raw.startsWith('#')) continue;
    if (raw.trim() === '!boot') {
      if (boots[boots.length - 1].length) boots.push([]);
      continue;
    }
    const f = raw.split('\t');
    const spec: CaseSpec = {
      id: f[0], line: i + 1, ko: f[1] ?? '', flags: 0, params: unescapeParams(f[3] ?? ''),
      options: f[4] ?? '', opts: { init: false, keep: false, fd: 'rdonly', paramsNull: false },
    };
    try {
      if (f.length < 2 || !spec.ko) throw new Error('expected id<TAB>ko<TAB>flags<TAB>params');
      spec.flags = parseFlags(f[2] ?? '');
      spec.opts = parseOptions(spec.options);
      if (spec.ko === '-' && !spec.opts.rmmod) throw new Error('ko "-" needs rmmod=');
    } catch (e) {
      spec.parseError = (e as Error).message;
    }
    boots[boots.length - 1].push(spec);
  }
  return { boots: boots.filter((b) => b.length) };
}

export function resolveKo(ko: string, opts: Pick<RunOptions, 'modulesDir' | 'baseDir'>): string {
  if (ko.startsWith('@mod/')) {
    if (!opts.modulesDir) throw new Error(`${ko}: no modules dir given for @mod/ paths`);
    return path.join(opts.modulesDir, ko.slice('@mod/'.length));
  }
  return path.resolve(opts.baseDir ?? '.', ko);
}

function record(spec: CaseSpec, boot: number): CaseRecord {
  return {
    id: spec.id, line: spec.line, ko: spec.ko, params: spec.opts.paramsNull ? null : spec.params,
    options: spec.options, flags: spec.flags, call: '', stage: 'syscall', rc: 0, errno: 0,
    errno_name: '', kmsg: [], taint_before: 0, taint_after: 0, loaded: [], boot, unknowns: [],
  };
}

function fill(rec: CaseRecord, r: SyscallResult) {
  rec.call = r.call;
  rec.rc = r.ret;
  rec.errno = r.errno;
  rec.errno_name = r.errnoName;
  rec.kmsg = r.lines.map((l) => ({ level: l.level, text: l.text }));
  rec.taint_before = r.taintBefore;
  rec.taint_after = r.taintAfter;
  rec.unknowns = [...r.unknowns];
  if (r.undecidable) rec.undecidable = r.undecidable;
  if (r.loaded) rec.loaded = [{ ...r.loaded, parameters: { ...r.loaded.parameters } }];
}

function runOne(kernel: SimulatedKernel, spec: CaseSpec, boot: number,
  opts: RunOptions): CaseRecord {
  const rec = record(spec, boot);
  const taint = kernel.taint;
  rec.taint_before = taint;
  rec.taint_after = taint;
  if (spec.parseError) {
    rec.stage = 'parse';
    rec.rc = -1;
    rec.error = spec.parseError;
    return rec;
  }
  if (spec.opts.rmmod) {
    fill(rec, kernel.deleteModule(spec.opts.rmmod.name, spec.opts.rmmod.flags));
    return rec;
  }
  rec.call = spec.opts.init ? 'init_module' : 'finit_module';
  let bytes: Uint8Array;
  try {
    const file = resolveKo(spec.ko, opts);
    // A pipe would block the read and a device never end it; the oracle's open() of either
    // succeeds, but kmodsim models regular files only.
    const st = fs.statSync(file);
    if (!st.isFile()) {
      throw Object.assign(new Error(`${file}: not a regular file`), { code: 'EINVAL' });
    }
    bytes = new Uint8Array(fs.readFileSync(file));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    rec.stage = 'open';
    rec.rc = -1;
    rec.errno = code === 'ENOENT' ? ENOENT : 5;
    rec.errno_name = errnoName(rec.errno);
    rec.error = (e as Error).message;
    return rec;
  }
  const r = spec.opts.init
    ? kernel.initModule(bytes, spec.params, { nullParams: spec.opts.paramsNull })
    : kernel.finitModule(bytes, spec.params, spec.flags,
      { openMode: spec.opts.fd, nullParams: spec.opts.paramsNull });
  fill(rec, r);
  if (spec.opts.init && spec.opts.fd !== 'rdonly') {
    rec.undecidable = 'fd= has no meaning for init_module, which reads no file';
  }
  // The oracle unloads what a case loaded, so the next case starts from the same module list.
  if (r.loaded && !spec.opts.keep) kernel.deleteModule(r.loaded.name, O_NONBLOCK);
  return rec;
}

export function runCases(cases: CaseFile, opts: RunOptions): CaseRecord[] {
  const out: CaseRecord[] = [];
  cases.boots.forEach((specs, i) => {
    const kernel = SimulatedKernel.boot(opts.profile, opts.bootArgs ?? '', opts.comm ?? 'insmod');
    for (const spec of specs) out.push(runOne(kernel, spec, i + 1, opts));
  });
  return out;
}

export interface RunCommandOptions {
  profile: KernelProfile;
  bootArgs?: string;
  comm?: string;
  // Defaults to profile.modulesDir.
  modulesDir?: string;
}

// The JSON text `kmodsim run CASES` prints, and the cases that did not run ("LINE: why"):
// a line that does not parse, a module file that cannot be opened.
export function runCasesCommand(file: string, opts: RunCommandOptions):
  { text: string; problems: string[] } {
  const cases = parseCases(fs.readFileSync(file, 'utf8'));
  const records = runCases(cases, {
    profile: opts.profile, bootArgs: opts.bootArgs, comm: opts.comm,
    modulesDir: opts.modulesDir ?? opts.profile.modulesDir, baseDir: path.dirname(file),
  });
  const doc = {
    kmodsim: 'cases/1',
    kernel: { release: opts.profile.release, source: opts.profile.source },
    boot_args: opts.bootArgs ?? '',
    cases_file: file,
    boots: cases.boots.length,
    cases: records,
  };
  const problems = records.filter((r) => r.stage === 'parse' || r.stage === 'open')
    .map((r) => `${r.line}: case ${r.id}: ${r.stage === 'parse' ? 'does not parse' : 'cannot ' +
      'open its module'}: ${r.error}`);
  return { text: `${JSON.stringify(doc, null, 2)}\n`, problems };
}

// What insmod (kmod 30 as Debian bookworm builds it: +ZSTD +XZ -ZLIB) does with a file before
// and instead of the kernel, as observed with strace faking the system calls:
// - it opens the file and reads its first 6 bytes to tell the compression; a path it cannot
//   open is "could not load module", a read that fails (a directory: EISDIR) or gives fewer
//   than 6 bytes (EINVAL) is "could not insert module", and no system call is made;
// - a character or block device reports st_size 0, and mapping 0 bytes fails with EINVAL;
// - an xz or zstd file is decompressed in user space and handed to init_module(), which has
//   no flags: forcing then edits the image instead, clearing SHF_ALLOC on __versions (so the
//   kernel finds none) and blanking vermagic=, which also breaks a signature by a trusted key.
//   A broken xz stream is EINVAL in user space; a broken zstd frame goes to init_module() as
//   0 bytes, which the kernel refuses with ENOEXEC;
// - without zlib, a .ko.gz is an ordinary file: its gzip bytes go to finit_module(), and the
//   kernel finds no ELF magic in them;
// - anything else goes to finit_module() with the force flags.

import * as fs from 'node:fs';
import { ElfFile } from '../elf/index.js';
import type { SyscallResult } from '../load/kernel.js';
import type { SimulatedKernel } from '../load/kernel.js';
import { MODULE_INIT_IGNORE_MODVERSIONS, MODULE_INIT_IGNORE_VERMAGIC } from '../load/context.js';
import { EFBIG, EINVAL, ENOENT, EPERM, errnoName } from '../load/errno.js';
import { decompressModule, detectCompression } from '../module/decompress.js';
import { ModuleImage } from '../module/image.js';
import { readModuleSignature } from '../module/signature.js';

export interface InsmodOptions {
  forceVermagic?: boolean;
  forceModversion?: boolean;
}

// A refusal by kmod itself, before any system call. `verb` is insmod's: "load" when the path
// cannot be opened, "insert" after.
export interface UserSpaceRefusal {
  verb: 'load' | 'insert';
  errno: number;
  errnoName: string;
  strerror: string;
  why: string;
}

export interface InsmodResult extends SyscallResult {
  userSpace?: UserSpaceRefusal;
  // Set when kmodsim cannot say what would happen (an input past what it models).
  undecidable?: string;
}

// kmodsim's own failure (an input it will not read): exit status 2, not a kernel verdict.
export class ToolError extends Error {}

const EACCES = 13;
const ENOTDIR = 20;
const EISDIR = 21;
const ELOOP = 40;
const ENAMETOOLONG = 36;

// The errors opening or reading a path can give, as glibc's strerror() words them.
const FILE_ERRORS: Record<string, [number, string]> = {
  ENOENT: [ENOENT, 'No such file or directory'],
  EACCES: [EACCES, 'Permission denied'],
  ENOTDIR: [ENOTDIR, 'Not a directory'],
  EISDIR: [EISDIR, 'Is a directory'],
  ELOOP: [ELOOP, 'Too many levels of symbolic links'],
  ENAMETOOLONG: [ENAMETOOLONG, 'File name too long'],
};

// A path's error as strerror() words it, else Node's message.
export function fileErrorText(e: NodeJS.ErrnoException): string {
  return FILE_ERRORS[e.code ?? '']?.[1] ?? e.message;
}

// The bytes kmod reads to tell the compression (the longest magic, xz's).
const MAGIC_BYTES = 6;
// kernel_read_file() takes at most INT_MAX bytes from finit_module()'s file.
const INT_MAX = 0x7fffffff;

function refusal(verb: UserSpaceRefusal['verb'], code: string, why: string): UserSpaceRefusal {
  const known = FILE_ERRORS[code] ?? (code === 'EINVAL' ? [EINVAL, 'Invalid argument'] : undefined);
  if (!known) throw new ToolError(why);
  return { verb, errno: known[0], errnoName: code, strerror: known[1], why };
}

// A result that stands for no system call at all.
function notCalled(kernel: SimulatedKernel, r: UserSpaceRefusal): InsmodResult {
  const taint = kernel.taint;
  return { call: 'finit_module', ret: -1, errno: r.errno, errnoName: r.errnoName, lines: [],
    taintBefore: taint, taintAfter: taint, steps: [],
    findings: [{ step: 'insmod', severity: 'error', message: r.why }], unknowns: [],
    relocationsApplied: 0, userSpace: r };
}

export type ModuleFile =
  | { ok: true; bytes: Uint8Array }
  | { ok: false; refusal: UserSpaceRefusal }
  // Larger than finit_module() reads: the bytes are not read at all.
  | { ok: false; size: number };

// Reads a module file the way insmod gets at it, without blocking on a pipe or reading a
// device without end. Throws ToolError for what kmodsim will not read.
export function openModuleFile(file: string): ModuleFile {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    return { ok: false, refusal: refusal('load', code, `${file}: cannot open: ${code}`) };
  }
  if (st.isDirectory()) {
    return { ok: false, refusal: refusal('insert', 'EISDIR',
      `${file} is a directory: read() fails with EISDIR`) };
  }
  if (st.isFIFO() || st.isSocket()) {
    throw new ToolError(`${file}: a ${st.isFIFO() ? 'named pipe' : 'socket'}, not a regular ` +
      'file: insmod would wait in open() or read() for a writer; kmodsim reads regular files');
  }
  if (!st.isFile()) {
    return { ok: false, refusal: refusal('insert', 'EINVAL', `${file} is a ` +
      `${st.isCharacterDevice() ? 'character' : 'block'} device: its size reads as 0 and ` +
      'kmod cannot map 0 bytes (EINVAL), before any system call') };
  }
  if (st.size > INT_MAX) {
    const head = Buffer.alloc(MAGIC_BYTES);
    const fd = fs.openSync(file, 'r');
    try {
      fs.readSync(fd, head, 0, MAGIC_BYTES, 0);
    } finally {
      fs.closeSync(fd);
    }
    const kind = detectCompression(head);
    if (kind === 'xz' || kind === 'zstd') {
      throw new ToolError(`${file}: a ${kind} file of ${st.size} bytes: kmodsim does not ` +
        'decompress files over 2 GiB');
    }
    return { ok: false, size: st.size };
  }
  try {
    return { ok: true, bytes: new Uint8Array(fs.readFileSync(file)) };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    return { ok: false, refusal: refusal('insert', code, `${file}: cannot read: ${code}`) };
  }
}

// insmod of a path: reads it as kmod does, then `insmod()`.
export function insmodPath(kernel: SimulatedKernel, file: string, params: string,
  opts: InsmodOptions): InsmodResult {
  const f = openModuleFile(file);
  if (f.ok) return insmod(kernel, f.bytes, params, opts);
  if ('refusal' in f) return notCalled(kernel, f.refusal);
  return tooLarge(kernel, f.size);
}

// finit_module() of a file over INT_MAX bytes: may_init_module() first, then the flags, then
// kernel_read_file() refuses with EFBIG and prints nothing.
function tooLarge(kernel: SimulatedKernel, size: number): InsmodResult {
  const taint = kernel.taint;
  const errno = kernel.state.boot.modulesDisabled ? EPERM : EFBIG;
  const why = errno === EPERM ? modulesDisabledWhy()
    : `the file has ${size} bytes: kernel_read_file() takes at most ${INT_MAX} (INT_MAX)`;
  return { call: 'finit_module', ret: -1, errno, errnoName: errnoName(errno), lines: [],
    taintBefore: taint, taintAfter: taint, steps: [],
    findings: [{ step: 'finit_module', severity: 'error', message: why }], unknowns: [],
    relocationsApplied: 0 };
}

function modulesDisabledWhy(): string {
  return 'module loading is disabled (nomodule on the kernel command line sets ' +
    'modules_disabled): may_init_module() refuses every load with EPERM';
}

// `bytes`: a regular file's contents. `unpacked`: the file already decompressed by the
// caller, so it is not done twice.
export function insmod(kernel: SimulatedKernel, bytes: Uint8Array, params: string,
  opts: InsmodOptions, unpacked?: ReturnType<typeof decompressModule>): InsmodResult {
  if (bytes.length < MAGIC_BYTES) {
    return notCalled(kernel, refusal('insert', 'EINVAL', `the file has ${bytes.length} ` +
      `byte(s): kmod reads ${MAGIC_BYTES} to tell the compression, and refuses a shorter ` +
      'file before any system call'));
  }
  const flags = (opts.forceModversion ? MODULE_INIT_IGNORE_MODVERSIONS : 0)
    | (opts.forceVermagic ? MODULE_INIT_IGNORE_VERMAGIC : 0);
  const kind = detectCompression(bytes);
  if (kind === 'none' || kind === 'gzip') {
    return explained(kernel, bytes, kernel.finitModule(bytes, params, flags));
  }
  const r = unpacked ?? decompressModule(bytes, kind);
  if (!r.ok) {
    if (r.error.code === 'too-large' || r.error.code === 'unavailable') {
      const result = notCalled(kernel, refusal('insert', 'EINVAL', r.error.what));
      result.userSpace = undefined;
      result.undecidable = r.error.code === 'unavailable' ? r.error.what
        : `the ${kind} stream decompresses past kmodsim's limit: ${r.error.what}`;
      return result;
    }
    if (kind === 'xz') {
      return notCalled(kernel, refusal('insert', 'EINVAL',
        `kmod cannot decompress the xz file: ${r.error.what}`));
    }
    const empty = kernel.initModule(new Uint8Array(0), params);
    empty.findings.push({ step: 'insmod', severity: 'error', message: `kmod cannot ` +
      `decompress the zstd file (${r.error.what}) and hands init_module() 0 bytes` });
    return explained(kernel, new Uint8Array(0), empty);
  }
  const image = flags ? forceEdits(r.bytes, opts) : r.bytes;
  return explained(kernel, image, kernel.initModule(image, params));
}

// Every refusal gets a finding that says what is wrong, even where the kernel recorded no
// step or only repeated its own line.
function explained(kernel: SimulatedKernel, bytes: Uint8Array, r: SyscallResult): InsmodResult {
  if (r.ret === 0 || r.findings.some((f) => f.severity === 'error')) return r;
  const failed = r.steps.find((s) => s.outcome === 'failed');
  let why: string | undefined;
  if (!failed) why = earlyWhy(kernel, bytes, r);
  else if (/elf_validity|setup_load_info/.test(failed.step)) why = elfDamage(bytes);
  if (!why && failed) why = failed.detail ?? `${failed.step} refused the module`;
  r.findings.push({ step: failed?.step ?? r.call, severity: 'error',
    message: why ?? `${r.call}() refused the module before any load step`,
    where: failed?.where });
  return r;
}

// Refusals that come before the load itself.
function earlyWhy(kernel: SimulatedKernel, bytes: Uint8Array, r: SyscallResult):
  string | undefined {
  if (r.errno === EPERM && kernel.state.boot.modulesDisabled) return modulesDisabledWhy();
  if (r.call === 'init_module' && bytes.length < 64) {
    return `init_module() got ${bytes.length} bytes, fewer than an ELF header (64): ENOEXEC`;
  }
  return undefined;
}

// What the ELF decoder finds wrong with a file the kernel's ELF checks refused, with offsets.
function elfDamage(bytes: Uint8Array): string | undefined {
  const sig = readModuleSignature(bytes);
  try {
    // The section table is decoded when first asked for.
    void ElfFile.open(bytes.subarray(0, sig.present ? sig.elfLength : bytes.length)).sections;
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

function forceEdits(bytes: Uint8Array, opts: InsmodOptions): Uint8Array {
  const copy = bytes.slice();
  const sig = readModuleSignature(copy);
  const elfBytes = copy.subarray(0, sig.present ? sig.elfLength : copy.length);
  let elf: ElfFile;
  try {
    elf = ElfFile.open(elfBytes);
  } catch {
    return copy;
  }
  if (opts.forceModversion) {
    const vers = elf.section('__versions');
    if (vers) {
      const flagsAt = vers.headerOffset + 8;
      elf.view.data.setUint32(flagsAt, vers.flags & ~2, elf.view.little);
    }
  }
  if (opts.forceVermagic) {
    const entry = new ModuleImage(elf).modinfo.entries.find((e) => e.key === 'vermagic');
    if (entry) copy.fill(0, entry.offset, entry.offset + entry.length);
  }
  return copy;
}

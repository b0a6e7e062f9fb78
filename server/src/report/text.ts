// A load result as a person reads it in a terminal: the kernel lines as `dmesg -x` would show
// their level, then what `insmod` would print, then kmodsim's own findings and what it could
// not know.

import { ENOENT, ENOEXEC, EINVAL, ESRCH, strerror } from '../load/errno.js';
import type { SyscallResult } from '../load/kernel.js';
import type { InsmodResult, UserSpaceRefusal } from '../cli/insmod.js';
import { taintLetters } from '../load/taint.js';
import type { Finding } from '../load/context.js';

const LEVELS = ['emerg', 'alert', 'crit', 'err', 'warn', 'notice', 'info', 'debug'];

// A kernel line as dmesg shows it: a byte that is neither printable nor white space comes out
// as \xHH (the DEL of "Invalid ELF header magic: != \x7fELF"). Human-readable output goes
// through here; JSON keeps the kernel's raw text. Kernel strings are read one byte per
// character (latin1), so C0 controls, DEL and 0x80-0x9f are escaped; 0xa0-0xff are left as
// characters, where dmesg would hex them unless they form UTF-8 its locale can print.
export function dmesgText(text: string): string {
  return text.replace(/[\x00-\x08\x0e-\x1f\x7f-\x9f]/g,
    (c) => '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'));
}

export function kernelLineText(level: number, text: string): string {
  const name = (LEVELS[level] ?? String(level)).padEnd(6);
  return `kern  :${name}: ${dmesgText(text).replace(/\n/g, '\n' + ' '.repeat(15))}`;
}

// The text kmod's insmod prints for a failed insertion (tools/insmod.c mod_strerror).
export function insmodError(errno: number): string {
  switch (errno) {
    case ENOEXEC: return 'Invalid module format';
    case ENOENT: return 'Unknown symbol in module';
    case ESRCH: return 'Module has wrong symbol version';
    case EINVAL: return 'Invalid parameters';
    default: return strerror(errno);
  }
}

export function formatInsmod(file: string, r: InsmodResult, verbose = true): string {
  const out: string[] = [];
  for (const l of r.lines) out.push(kernelLineText(l.level, l.text));
  if (r.lines.length) out.push('');
  if (r.undecidable) {
    // Before "loads": a module that goes live in a state the simulation cannot follow.
    out.push(`undecidable: ${r.undecidable}`);
  } else if (r.ret === 0) {
    const taint = r.loaded?.taint ? ` (${r.loaded.taint})` : '';
    out.push(`${r.call}: ${r.loaded?.name ?? file} loads${taint}; kernel taint ` +
      `${r.taintAfter}${r.taintAfter ? ` [${taintLetters(r.taintAfter)}]` : ''}`);
  } else if (r.userSpace) {
    const u = r.userSpace;
    out.push(`insmod: ERROR: could not ${u.verb} module ${file}: ${userSpaceText(u)}`);
    out.push(`no system call: kmod refused the file in user space (${u.errnoName})`);
  } else {
    out.push(`insmod: ERROR: could not insert module ${file}: ${insmodError(r.errno)}`);
    out.push(`${r.call}() = -1 ${r.errnoName} (${strerror(r.errno)})`);
  }
  if (verbose) {
    for (const f of r.findings) {
      out.push(`${f.severity}: [${f.step}] ${dmesgText(f.message)}${whereText(f)}`);
    }
    for (const u of r.unknowns) out.push(`unknown: ${dmesgText(u)}`);
  }
  return out.join('\n') + '\n';
}

// Where a finding is, when the engine recorded a place the message does not already name.
function whereText(f: Finding): string {
  const w = f.where;
  if (!w) return '';
  const parts: string[] = [];
  if (w.section && !f.message.includes(w.section)) parts.push(`section ${w.section}`);
  if (w.offset !== undefined) {
    const hex = `0x${w.offset.toString(16)}`;
    if (!f.message.includes(hex)) parts.push(`offset ${hex}`);
  }
  if (w.symbol && !f.message.includes(w.symbol)) parts.push(`symbol ${w.symbol}`);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

// Kernel lines that announce a taint: printed on the way, never the reason of a refusal.
const TAINT_ANNOUNCEMENT = /taints kernel\.$|- tainting kernel$/;

// check's one-line reason for a refusal: the kernel line the refusing step printed (the last
// line but a taint announcement), else kmodsim's explanation of the refusal.
export function refusalReason(r: InsmodResult): string | undefined {
  if (r.undecidable) return `undecidable: ${r.undecidable}`;
  if (r.ret === 0) return undefined;
  const last = r.lines[r.lines.length - 1];
  if (last && !TAINT_ANNOUNCEMENT.test(last.text)) return last.text;
  const error = r.findings.find((f) => f.severity === 'error');
  return error ? error.message + whereText(error) : last?.text;
}

export function formatSteps(r: SyscallResult): string {
  return r.steps.map((s) => {
    const errno = s.errno ? ` (errno ${s.errno})` : '';
    const detail = s.detail ? ': ' + dmesgText(s.detail) : '';
    return `  ${s.outcome.padEnd(7)} ${s.step}${errno}${detail}`;
  }).join('\n') + '\n';
}

// The oracle's JSON fields for one call, so kmodsim and the real kernel can be compared.
export function resultJson(file: string, r: InsmodResult) {
  return {
    file, call: r.userSpace || r.undecidable ? '' : r.call,
    stage: r.undecidable ? 'undecidable' : r.userSpace ? 'user space' : 'syscall',
    loads: r.ret === 0, rc: r.ret, errno: r.errno, errno_name: r.errnoName,
    lines: r.lines.map((l) => ({ level: l.level, text: l.text })),
    taint_before: r.taintBefore, taint_after: r.taintAfter,
    loaded: r.loaded ? [r.loaded] : [],
    insmod: r.ret === 0 ? '' : insmodText(r),
    findings: r.findings, unknowns: r.unknowns, steps: r.steps,
    ...(r.undecidable ? { undecidable: r.undecidable } : {}),
  };
}

// What insmod says after "could not ... module FILE: ".
function insmodText(r: InsmodResult): string {
  return r.userSpace ? userSpaceText(r.userSpace) : insmodError(r.errno);
}

// kmod words a path it cannot open with strerror(), a refused insertion as mod_strerror()
// does (its own texts for a few errnos, strerror() for the rest).
function userSpaceText(u: UserSpaceRefusal): string {
  const own = insmodError(u.errno);
  return u.verb === 'load' || own === strerror(u.errno) ? u.strerror : own;
}

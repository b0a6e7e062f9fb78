// A load result as a person reads it in a terminal: the kernel lines as `dmesg -x` would show
// their level, then what `insmod` would print, then kmodsim's own findings and what it could
// not know.

import { ENOENT, ENOEXEC, EINVAL, ESRCH, strerror } from '../load/errno.js';
import type { SyscallResult } from '../load/kernel.js';
import { taintLetters } from '../load/taint.js';

const LEVELS = ['emerg', 'alert', 'crit', 'err', 'warn', 'notice', 'info', 'debug'];

export function kernelLineText(level: number, text: string): string {
  const name = (LEVELS[level] ?? String(level)).padEnd(6);
  return `kern  :${name}: ${text.replace(/\n/g, '\n' + ' '.repeat(15))}`;
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

export function formatInsmod(file: string, r: SyscallResult, verbose = true): string {
  const out: string[] = [];
  for (const l of r.lines) out.push(kernelLineText(l.level, l.text));
  if (r.lines.length) out.push('');
  if (r.ret === 0) {
    const taint = r.loaded?.taint ? ` (${r.loaded.taint})` : '';
    out.push(`${r.call}: ${r.loaded?.name ?? file} loads${taint}; kernel taint ` +
      `${r.taintAfter}${r.taintAfter ? ` [${taintLetters(r.taintAfter)}]` : ''}`);
  } else {
    out.push(`insmod: ERROR: could not insert module ${file}: ${insmodError(r.errno)}`);
    out.push(`${r.call}() = -1 ${r.errnoName} (${strerror(r.errno)})`);
  }
  if (verbose) {
    for (const f of r.findings) out.push(`${f.severity}: [${f.step}] ${f.message}`);
    for (const u of r.unknowns) out.push(`unknown: ${u}`);
  }
  return out.join('\n') + '\n';
}

export function formatSteps(r: SyscallResult): string {
  return r.steps.map((s) => {
    const errno = s.errno ? ` (errno ${s.errno})` : '';
    return `  ${s.outcome.padEnd(7)} ${s.step}${errno}${s.detail ? ': ' + s.detail : ''}`;
  }).join('\n') + '\n';
}

// The oracle's JSON fields for one call, so kmodsim and the real kernel can be compared.
export function resultJson(file: string, r: SyscallResult) {
  return {
    file, call: r.call, loads: r.ret === 0, rc: r.ret, errno: r.errno, errno_name: r.errnoName,
    lines: r.lines.map((l) => ({ level: l.level, text: l.text })),
    taint_before: r.taintBefore, taint_after: r.taintAfter,
    loaded: r.loaded ? [r.loaded] : [],
    insmod: r.ret === 0 ? '' : insmodError(r.errno),
    findings: r.findings, unknowns: r.unknowns, steps: r.steps,
  };
}

// The report document of one module: what was loaded into what, the kernel's lines, what
// insmod would print, the load steps in order, kmodsim's findings and what it could not know.
// Each failing step and each finding is also a diagnostic on its own line, so the report
// reads like a compiler log in the editor.

import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver/node';
import { strerror } from '../load/errno.js';
import type { SyscallResult } from '../load/kernel.js';
import { dmesgText, formatInsmod, insmodError, kernelLineText } from '../report/text.js';

export interface ReportInput {
  file: string;
  target: string;
  bootArgs: string;
  flags: string[];
  params: string;
  // Where the parameters came from ("modprobe.d/hello.conf line 3"), when not typed.
  paramsFrom?: string[];
  providers: string[];
  notes: string[];
  decodeError?: string;
  result: SyscallResult;
}

export interface Rendered {
  text: string;
  diagnostics: Diagnostic[];
  verdict: string;
  ok: boolean;
  // The load it shows, for the C-source diagnostics; absent when nothing was simulated.
  result?: SyscallResult;
}

const SOURCE = 'kmodsim';

// One line for the status bar and the module list.
export function verdictOf(r: SyscallResult): string {
  if (r.undecidable) return `undecidable: ${dmesgText(r.undecidable)}`;
  if (r.ret === 0) return r.loaded?.taint ? `loads (${r.loaded.taint})` : 'loads';
  // The refusal's own line: the last error, else the last warning that is not a taint note.
  const lines = [...r.lines].reverse();
  const why = lines.find((l) => l.level <= 3)
    ?? lines.find((l) => l.level === 4 && !/taint/.test(l.text));
  return `${r.errnoName}: ${why ? dmesgText(why.text) : insmodError(r.errno)}`;
}

export function renderReport(input: ReportInput): Rendered {
  const r = input.result;
  const out: string[] = [];
  const diagnostics: Diagnostic[] = [];
  // Lines and messages are shown as dmesg would show them (non-printable bytes as \xHH), the
  // text once it is complete, so each range is measured on the escaped line.
  const mark = (severity: DiagnosticSeverity, message: string, code?: string) => {
    const line = out.length - 1;
    const end = dmesgText(out[line]).length;
    diagnostics.push({ severity, message: dmesgText(message), source: SOURCE, code,
      range: { start: { line, character: 0 }, end: { line, character: end } } });
  };

  out.push(`kmodsim report: ${input.file}`);
  out.push(`target: ${input.target}`);
  out.push(`boot: ${input.bootArgs || '(no module-related kernel arguments)'}`);
  out.push(`flags: ${input.flags.length ? input.flags.join(' ') : 'none'}`);
  out.push(`parameters: ${input.params || '(none)'}`);
  for (const from of input.paramsFrom ?? []) out.push(`  ${from}`);
  if (input.providers.length) {
    out.push(`loaded first (workspace modules): ${input.providers.join(', ')}`);
  }
  for (const n of input.notes) {
    out.push(`note: ${n}`);
    mark(DiagnosticSeverity.Warning, n);
  }
  out.push('');

  const verdict = verdictOf(r);
  if (r.undecidable) {
    out.push(`verdict: undecidable: ${r.undecidable}`);
    mark(DiagnosticSeverity.Warning, `undecidable: ${r.undecidable}`, 'undecidable');
  } else if (r.ret === 0) {
    out.push(`verdict: ${r.call} returns 0: the module loads` +
      (r.loaded?.taint ? ` (taint ${r.loaded.taint})` : ''));
  } else {
    out.push(`verdict: ${r.call} returns -1 ${r.errnoName} (${strerror(r.errno)})`);
    mark(DiagnosticSeverity.Error, `${r.errnoName}: ${insmodError(r.errno)}`, r.errnoName);
  }
  out.push('');

  out.push('kernel log:');
  if (!r.lines.length) out.push('  (nothing printed)');
  for (const l of r.lines) {
    for (const part of kernelLineText(l.level, l.text).split('\n')) out.push('  ' + part);
  }
  out.push('');

  out.push('insmod:');
  const insmodText = formatInsmod(input.file, r, false).trimEnd().split('\n')
    .filter((l, i, all) => i >= all.length - (r.ret === 0 ? 1 : 2));
  for (const l of insmodText) out.push('  ' + l);
  out.push('');

  out.push('steps:');
  for (const s of r.steps) {
    const errno = s.errno ? ` (errno ${s.errno})` : '';
    out.push(`  ${s.outcome.padEnd(7)} ${s.step}${errno}${s.detail ? ': ' + s.detail : ''}`);
    if (s.outcome === 'failed') {
      mark(DiagnosticSeverity.Error, `${s.step} failed${errno}${s.detail ? ': ' + s.detail : ''}`,
        s.step);
    }
  }
  if (!r.steps.length) out.push('  (the call ended before load_module)');
  out.push('');

  if (input.decodeError) {
    out.push(`decode: ${input.decodeError}`);
    mark(DiagnosticSeverity.Error, `the module could not be decoded: ${input.decodeError}`);
  }
  if (r.findings.length) out.push('findings:');
  for (const f of r.findings) {
    out.push(`  ${f.severity}: [${f.step}] ${f.message}`);
    mark(f.severity === 'error' ? DiagnosticSeverity.Error : f.severity === 'warning'
      ? DiagnosticSeverity.Warning : DiagnosticSeverity.Information, f.message, f.step);
  }
  if (r.unknowns.length) out.push('unknown to a static simulation:');
  for (const u of r.unknowns) {
    out.push(`  ${u}`);
    mark(DiagnosticSeverity.Information, u);
  }
  return { text: out.map(dmesgText).join('\n') + '\n', diagnostics, verdict,
    ok: r.ret === 0 && !r.undecidable, result: r };
}

// A report for a file that could not even be read.
export function renderUnreadable(file: string, target: string, why: string): Rendered {
  const text = `kmodsim report: ${file}\ntarget: ${target}\n\nverdict: not simulated\n` +
    `error: ${why}\n`;
  const line = 3;
  return { text, ok: false, verdict: `not simulated: ${why}`, diagnostics: [{
    severity: DiagnosticSeverity.Error, source: SOURCE, message: why,
    range: { start: { line, character: 0 }, end: { line, character: 7 + why.length } } }] };
}

// Findings put on the module's C sources where they can be located without debug info: the
// module_param line of a parameter (pointing at the modprobe.d arguments that set it), the
// MODULE_LICENSE line, the MODULE_IMPORT_NS lines, and the call sites of a symbol the kernel
// did not resolve, found by a text search. Which files belong to the module comes from the
// Kbuild (or Makefile) beside the .ko: `obj-m += name.o` with `name-objs`/`name-y` listing its
// objects; a module without such a list is built from name.c. Exact lines through DWARF are a
// later issue.

import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  DiagnosticSeverity, type Diagnostic, type DiagnosticRelatedInformation, type Location,
} from 'vscode-languageserver/node';
import type { SyscallResult } from '../load/kernel.js';
import { dmesgText } from '../report/text.js';
import { parameq } from '../params/index.js';
import type { ModuleFacts } from './simulate.js';

const SOURCE = 'kmodsim';

// Kbuild assignments: `obj-m := a.o b.o`, `obj-m += c.o`, `foo-objs := x.o`, `foo-y += y.o`,
// with backslash continuations. Conditionals and variables are not evaluated.
export function readKbuild(text: string): Map<string, string[]> {
  const vars = new Map<string, string[]>();
  const joined = text.replace(/\\\n/g, ' ');
  for (const raw of joined.split('\n')) {
    const line = raw.replace(/#.*$/, '');
    const m = /^\s*([A-Za-z0-9_.-]+(?:-objs|-y|-m)|obj-m|obj-y)\s*(:=|\+=|=|\?=)\s*(.*)$/
      .exec(line);
    if (!m) continue;
    const words = m[3].split(/\s+/).filter(Boolean);
    const key = m[1];
    if (m[2] === '+=') vars.set(key, [...(vars.get(key) ?? []), ...words]);
    else vars.set(key, words);
  }
  return vars;
}

// The C files of one module, from the build files in the .ko's directory.
export function moduleSources(koFile: string, moduleName: string): string[] {
  const dir = path.dirname(koFile);
  const base = path.basename(koFile).replace(/\.ko(\.(xz|gz|zst))?$/, '');
  const names = [base, moduleName, moduleName.replace(/_/g, '-')];
  let objects: string[] | undefined;
  for (const f of ['Kbuild', 'Makefile']) {
    const file = path.join(dir, f);
    if (!fs.existsSync(file)) continue;
    let vars: Map<string, string[]>;
    try {
      vars = readKbuild(fs.readFileSync(file, 'utf8'));
    } catch {
      continue;
    }
    for (const n of names) {
      objects = vars.get(`${n}-objs`) ?? vars.get(`${n}-y`);
      if (objects) break;
    }
    if (objects) break;
  }
  const out: string[] = [];
  for (const o of objects ?? [`${base}.o`]) {
    const c = path.join(dir, o.replace(/\.o$/, '.c'));
    if (fs.existsSync(c) && !out.includes(c)) out.push(c);
  }
  return out;
}

interface Located {
  file: string;
  line: number;
  start: number;
  end: number;
}

function findAll(files: Map<string, string[]>, pattern: RegExp): Located[] {
  const out: Located[] = [];
  for (const [file, lines] of files) {
    lines.forEach((text, line) => {
      const code = text.replace(/\/\/.*$/, '');
      pattern.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = pattern.exec(code))) {
        out.push({ file, line, start: m.index, end: m.index + m[0].length });
        if (!pattern.global) break;
      }
    });
  }
  return out;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// Where a parameter is declared: its first module_param*(NAME, ...), else (a declaration
// through a macro of the module's own) its MODULE_PARM_DESC(NAME, ...). One place, so that
// one problem is one diagnostic.
function paramLine(files: Map<string, string[]>, name: string): Located | undefined {
  const n = escapeRe(name);
  return findAll(files, new RegExp(`\\bmodule_param\\w*\\s*\\(\\s*${n}\\b`, 'g'))[0]
    ?? findAll(files, new RegExp(`\\bMODULE_PARM_DESC\\s*\\(\\s*${n}\\b`, 'g'))[0];
}

// An argument of a modprobe.d options line the load was given: the parameter it names (as
// written) and where it sits.
export interface ParamOrigin {
  name: string;
  location: Location;
}

// Symbol uses, skipping the line where the symbol is declared `extern` in the source itself.
function symbolUses(files: Map<string, string[]>, name: string): Located[] {
  return findAll(files, new RegExp(`\\b${escapeRe(name)}\\b`, 'g'))
    .filter((l) => !/\bextern\b/.test(files.get(l.file)![l.line]));
}

// Kernel lines that name a symbol: unknown, mismatched version, missing version, namespace.
const SYMBOL_LINES: RegExp[] = [
  /: Unknown symbol (\S+) \(err -?\d+\)$/,
  /: disagrees about version of symbol (\S+)$/,
  /: no symbol version for (\S+)$/,
  /: module uses symbol \((\S+)\) from namespace/,
  /: module using GPL-only symbols uses symbols (\S+) from/,
  /: module uses symbols (\S+) from proprietary module/,
];

export function sourceDiagnostics(facts: ModuleFacts, result: SyscallResult,
  sources: string[], origins: ParamOrigin[] = []): Map<string, Diagnostic[]> {
  const out = new Map<string, Diagnostic[]>();
  for (const s of sources) out.set(s, []);
  if (!sources.length) return out;
  const files = new Map<string, string[]>();
  for (const s of sources) {
    try {
      files.set(s, fs.readFileSync(s, 'utf8').split('\n'));
    } catch {
      // A source that vanished between the listing and now gets no diagnostics.
    }
  }
  const add = (at: Located, severity: DiagnosticSeverity, message: string, code?: string,
    related?: DiagnosticRelatedInformation[]) => {
    // Kernel lines as dmesg shows them (non-printable bytes as \xHH).
    out.get(at.file)!.push({ severity, message: dmesgText(message), source: SOURCE, code,
      range: { start: { line: at.line, character: at.start },
        end: { line: at.line, character: at.end } },
      ...(related?.length ? { relatedInformation: related } : {}) });
  };

  // Parameters: what the kernel printed about them, and what the decoder found wrong.
  for (const p of facts.params) {
    const lines = result.lines.filter((l) => l.text.includes(`\`${p.name}'`)
      || l.text.startsWith(`${p.name}: `));
    const messages = [...lines.map((l) => l.text), ...p.problems];
    if (!messages.length) continue;
    const at = paramLine(files, p.name);
    if (!at) continue;
    const related = lines.length ? origins.filter((o) => parameq(o.name, p.name))
      .map((o) => ({ location: o.location, message: `${p.name} set here` })) : [];
    add(at, lines.length ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
      messages.join('\n'), 'parse_args', related);
  }

  // The licence: a taint (and invisible GPL-only exports) is a warning, not a refusal.
  const licence = result.findings.find((f) => f.step === 'taints' && /license/.test(f.message));
  if (licence) {
    const kernelLine = result.lines.find((l) => /module license '.*' taints kernel/.test(l.text));
    for (const at of findAll(files, /\bMODULE_LICENSE\s*\(/g)) {
      add(at, DiagnosticSeverity.Warning,
        [kernelLine?.text, licence.message].filter(Boolean).join('\n'), 'license');
    }
  }

  // Symbols the kernel named.
  const seen = new Set<string>();
  for (const l of result.lines) {
    for (const re of SYMBOL_LINES) {
      const m = re.exec(l.text);
      if (!m) continue;
      const key = `${m[1]}\n${l.text}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const severity = l.level <= 3 || result.ret !== 0 ? DiagnosticSeverity.Error
        : DiagnosticSeverity.Warning;
      const ns = /from namespace (\S+), but does not import it/.exec(l.text);
      const imports = ns ? findAll(files, /\bMODULE_IMPORT_NS\s*\(/g) : [];
      const where = imports.length ? imports : symbolUses(files, m[1]);
      const hint = ns ? `\nadd MODULE_IMPORT_NS(${ns[1]}) to the module's source` : '';
      for (const at of where) add(at, severity, l.text + hint, 'symbol');
    }
  }
  return out;
}

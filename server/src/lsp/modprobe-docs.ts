// modprobe.d documents in the editor: kmod's own complaints, each `options` line checked with
// the kernel's parse_args against the module's parameters, and the completions and hovers
// for commands, module names, parameter names and values.

import {
  CompletionItemKind, DiagnosticSeverity, MarkupKind, type CompletionItem, type Diagnostic,
  type Hover, type Position, type Range,
} from 'vscode-languageserver/node';
import {
  COMMANDS, offsetAt, parseModprobeConf, placeOf, softdepWords, type ConfFile, type ConfLine,
} from '../modprobe/config.js';
import { checkOptions, type OptionFinding } from '../modprobe/options.js';
import type { ModuleParam } from '../module/params.js';
import { paramDetail, paramDocumentation, paramHover, valueChoices } from './params-text.js';
import type { Slicer } from './slices.js';
import type { ModuleFacts } from './simulate.js';

const SOURCE = 'kmodsim';

export interface KnownModule {
  facts?: ModuleFacts;
  // Where it was found: the workspace's build or the target kernel's tree.
  origin: 'workspace' | 'tree';
  file: string;
  verdict?: string;
}

export interface ModuleDirectory {
  lookup(name: string): KnownModule | undefined;
  names(): { name: string; origin: KnownModule['origin']; file: string }[];
  lockdown: boolean;
}

const COMMAND_DOCS: Record<string, string> = {
  options: 'options MODULE PARAM=VALUE ...: parameters passed to the module whenever it ' +
    'is loaded; kmod passes the text to the kernel as it is, comments included',
  install: 'install MODULE COMMAND...: run a shell command instead of loading the module',
  remove: 'remove MODULE COMMAND...: run a shell command instead of unloading the module',
  blacklist: 'blacklist MODULE: ignore the module\'s aliases (it still loads by name)',
  softdep: 'softdep MODULE pre: MODULES... post: MODULES...: load other modules before or ' +
    'after this one',
  alias: 'alias PATTERN MODULE: another name (a shell pattern) for the module',
};

function toRange(line: ConfLine, start: number, end: number): Range {
  const a = placeOf(line, Math.min(start, line.text.length));
  const lastChar = Math.max(start, end - 1);
  const b = end > start ? placeOf(line, Math.min(lastChar, line.text.length)) : a;
  const endColumn = end > start && lastChar < line.text.length ? b.column + 1 : b.column;
  return { start: { line: a.line, character: a.column },
    end: { line: b.line, character: endColumn } };
}

const SEVERITY = {
  error: DiagnosticSeverity.Error, warning: DiagnosticSeverity.Warning,
  info: DiagnosticSeverity.Information,
};

export function modprobeDiagnostics(file: string, text: string, dir: ModuleDirectory):
  { conf: ConfFile; diagnostics: Diagnostic[] } {
  const conf = parseModprobeConf(file, text);
  const diagnostics: Diagnostic[] = [];
  const unchecked = new Set<string>();
  for (const line of conf.lines) lineDiagnostics(line, dir, diagnostics, unchecked);
  return { conf, diagnostics };
}

// The same, a slice at a time: a file of 100,000 lines takes seconds to check.
export async function modprobeDiagnosticsSliced(conf: ConfFile, dir: ModuleDirectory,
  slicer: Slicer): Promise<Diagnostic[]> {
  const diagnostics: Diagnostic[] = [];
  const unchecked = new Set<string>();
  for (const line of conf.lines) {
    lineDiagnostics(line, dir, diagnostics, unchecked);
    if (slicer.due()) await slicer.next();
  }
  return diagnostics;
}

// `unchecked` holds the modules already said to be unchecked: said once per module, on its
// first options line (a file of thousands of lines for modules the target does not have would
// otherwise carry a note on each, megabytes for the client to read).
function lineDiagnostics(line: ConfLine, dir: ModuleDirectory, diagnostics: Diagnostic[],
  unchecked: Set<string>) {
  for (const p of line.problems) {
    diagnostics.push({ severity: SEVERITY[p.severity], message: p.message, source: 'kmod',
      range: toRange(line, p.start, p.end) });
  }
  if (line.command !== 'options' || !line.module || !line.rest) return;
  const known = dir.lookup(line.moduleName!);
  if (!known?.facts || known.facts.decodeError) {
    if (unchecked.has(line.moduleName!)) return;
    unchecked.add(line.moduleName!);
    const why = known?.facts?.decodeError
      ? `module '${line.moduleName}' (${known.file}) could not be decoded: ` +
        known.facts.decodeError
      : known && !known.file
        ? `module '${line.moduleName}' of the target kernel: the profile has no module ` +
          'files, so its parameters are not checked (set kmodsim.kernel to its ' +
          '/lib/modules/<release>)'
        : `no module '${line.moduleName}' in the workspace or the target kernel's tree: ` +
          'its parameters are not checked';
    diagnostics.push({ severity: DiagnosticSeverity.Information, message: why, source: SOURCE,
      range: toRange(line, line.module.start, line.module.end) });
    return;
  }
  let findings: OptionFinding[];
  try {
    findings = checkOptions(known.facts.name, line.rest.text, known.facts.params,
      { lockdown: dir.lockdown });
  } catch (e) {
    findings = [{ severity: 'error', start: 0, end: line.rest.text.length,
      message: `the options could not be checked: ${(e as Error).message}` }];
  }
  for (const f of findings) {
    diagnostics.push({ severity: SEVERITY[f.severity], message: f.message, source: SOURCE,
      code: f.parameter,
      range: toRange(line, line.rest.start + f.start, line.rest.start + f.end) });
  }
}

// The logical line holding a position, and the position's offset in its text.
function lineAt(conf: ConfFile, pos: Position): { line: ConfLine; offset: number } | undefined {
  for (const line of conf.lines) {
    if (pos.line < line.firstLine || pos.line > line.lastLine) continue;
    return { line, offset: offsetAt(line, pos) };
  }
  return undefined;
}

interface Context {
  // Words complete before the cursor, and the partial word under it.
  before: string[];
  partial: string;
  partialStart: number;
}

function contextOf(text: string, offset: number): Context {
  const head = text.slice(0, offset);
  const m = /[^ \t]*$/.exec(head)!;
  return { before: head.slice(0, m.index).split(/[ \t]+/).filter(Boolean), partial: m[0],
    partialStart: m.index };
}

export function moduleCompletions(dir: ModuleDirectory): CompletionItem[] {
  return dir.names().map((m) => {
    // A tree module's facts would mean reading its file: thousands of them for one list.
    const known = m.origin === 'workspace' ? dir.lookup(m.name) : undefined;
    const desc = known?.facts?.description;
    return { label: m.name, kind: CompletionItemKind.Module,
      detail: m.origin === 'workspace' ? `workspace module${known?.verdict ? ': '
        + known.verdict : ''}` : 'target kernel module',
      documentation: [desc, m.file || 'exports symbols (Module.symvers)'].filter(Boolean)
        .join('\n') };
  });
}

// Completions for a parameter string (an options line's rest, or the insmod box).
export function paramCompletions(facts: ModuleFacts, text: string, offset: number):
  CompletionItem[] {
  const ctx = contextOf(text, offset);
  const eq = ctx.partial.indexOf('=');
  if (eq >= 0) {
    const name = ctx.partial.slice(0, eq);
    const p = facts.params.find((x) => x.name === name || x.name === name.replace(/-/g, '_'));
    if (!p) return [];
    return valueChoices(p).map((v) => ({ label: v.label, detail: v.detail,
      kind: CompletionItemKind.Value, filterText: `${name}=${v.label}`,
      insertText: v.label }));
  }
  const given = new Set(ctx.before.map((w) => w.split('=')[0]));
  return inModinfoOrder(facts).filter((p) => !given.has(p.name)).map((p): CompletionItem => ({
    label: `${p.name}=`, kind: CompletionItemKind.Property, detail: paramDetail(p),
    documentation: paramDocumentation(facts, p),
  }));
}

export function modprobeCompletions(conf: ConfFile, pos: Position, dir: ModuleDirectory):
  CompletionItem[] {
  const at = lineAt(conf, pos);
  const text = at?.line.text ?? '';
  const ctx = contextOf(text, at?.offset ?? 0);
  if (ctx.before.length === 0) {
    return COMMANDS.map((c) => ({ label: c, kind: CompletionItemKind.Keyword,
      detail: 'modprobe.d command', documentation: COMMAND_DOCS[c] }));
  }
  const command = ctx.before[0];
  const wantsModule = (['options', 'install', 'remove', 'blacklist', 'softdep'].includes(command)
    && ctx.before.length === 1) || (command === 'alias' && ctx.before.length === 2);
  if (wantsModule) return moduleCompletions(dir);
  if (command === 'softdep') {
    return [
      { label: 'pre:', kind: CompletionItemKind.Keyword, detail: 'load these first' },
      { label: 'post:', kind: CompletionItemKind.Keyword, detail: 'load these after' },
      ...moduleCompletions(dir),
    ];
  }
  if (command !== 'options' || !at?.line.module) return [];
  const known = dir.lookup(at.line.moduleName!);
  if (!known?.facts) return [];
  const restStart = at.line.module.end + 1;
  const restOffset = at.offset - restStart;
  if (restOffset < 0) return [];
  return paramCompletions(known.facts, text.slice(restStart), restOffset);
}

// Parameters in the order `modinfo` lists them, then any it does not list.
function inModinfoOrder(facts: ModuleFacts): ModuleParam[] {
  const rank = new Map<string, number>();
  facts.paramOrder.forEach((name, i) => rank.set(name, i));
  return facts.params.map((p, i) => ({ p, key: rank.get(p.name) ?? rank.size + i }))
    .sort((a, b) => a.key - b.key).map((x) => x.p);
}

function wordAt(text: string, offset: number): { start: number; end: number } | undefined {
  let start = offset;
  let end = offset;
  while (start > 0 && !/[ \t]/.test(text[start - 1])) start--;
  while (end < text.length && !/[ \t]/.test(text[end])) end++;
  return end > start ? { start, end } : undefined;
}

export function modprobeHover(conf: ConfFile, pos: Position, dir: ModuleDirectory):
  Hover | undefined {
  const at = lineAt(conf, pos);
  if (!at || !at.line.head) return undefined;
  const line = at.line;
  const head = at.line.head;
  const w = wordAt(line.text, at.offset);
  if (!w) return undefined;
  const md = (value: string, start: number, end: number): Hover => ({
    contents: { kind: MarkupKind.Markdown, value }, range: toRange(line, start, end) });

  if (w.start === head.start && COMMAND_DOCS[head.text]) {
    return md(COMMAND_DOCS[head.text], w.start, w.end);
  }
  const moduleWord = line.command === 'alias' ? line.target : line.module;
  const moduleName = line.command === 'alias' ? line.targetName : line.moduleName;
  const onSoftdep = line.command === 'softdep' && line.rest && w.start >= line.rest.start
    ? softdepWords(line.rest).find((s) => s.start === w.start && s.list !== 'marker')
    : undefined;
  if ((moduleWord && w.start === moduleWord.start) || onSoftdep) {
    const name = onSoftdep ? onSoftdep.text.replace(/-/g, '_') : moduleName!;
    return md(moduleHover(name, dir.lookup(name)), w.start, w.end);
  }
  if (line.command === 'options' && line.rest && w.start >= line.rest.start) {
    const known = dir.lookup(line.moduleName!);
    const word = line.text.slice(w.start, w.end);
    const name = word.split('=')[0].replace(/^"/, '');
    const p = known?.facts?.params.find((x: ModuleParam) =>
      x.name === name || x.name === name.replace(/-/g, '_'));
    if (p && known?.facts) return md(paramHover(known.facts, p), w.start, w.end);
  }
  return undefined;
}

function moduleHover(name: string, known: KnownModule | undefined): string {
  if (!known) return `**${name}**: not in the workspace or the target kernel's tree`;
  const desc = known.facts?.description;
  const out = [`**${name}** (${known.origin === 'workspace' ? 'workspace module'
    : 'target kernel module'})`, ''];
  if (desc) out.push(desc, '');
  if (known.file) out.push(`- file: ${known.file}`);
  else out.push('- known from the profile\'s Module.symvers (it exports symbols)');
  if (known.verdict) out.push(`- on the target: ${known.verdict}`);
  const params = known.facts?.params ?? [];
  if (params.length) out.push(`- parameters: ${params.map((p) => p.name).join(', ')}`);
  return out.join('\n');
}

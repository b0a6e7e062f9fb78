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
import { dmesgText } from '../report/text.js';
import {
  elementDefault, paramDetail, paramDocumentation, paramHover, valueChoices,
} from './params-text.js';
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
    diagnostics.push({ severity: SEVERITY[p.severity], message: p.message,
      source: p.ours ? SOURCE : 'kmod',
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
    // The kernel's lines as dmesg shows them (a control byte of a value as \xHH).
    diagnostics.push({ severity: SEVERITY[f.severity], message: dmesgText(f.message),
      source: SOURCE, code: f.parameter,
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

export function moduleCompletions(dir: ModuleDirectory, partial = ''): CompletionItem[] {
  return dir.names().map((m) => {
    // A tree module's facts would mean reading its file: thousands of them for one list.
    const known = m.origin === 'workspace' ? dir.lookup(m.name) : undefined;
    const desc = known?.facts?.description;
    return { label: m.name, kind: CompletionItemKind.Module,
      filterText: spelledAs(partial, m.name),
      detail: m.origin === 'workspace' ? `workspace module${known?.verdict ? ': '
        + known.verdict : ''}` : 'target kernel module',
      documentation: [desc, m.file || 'exports symbols (Module.symvers)'].filter(Boolean)
        .join('\n') };
  });
}

// kmod reads `-` in a module name as `_`, and the kernel does the same in a parameter name:
// an item matches the partial word in the user's spelling, and inserts the canonical one.
function spelledAs(partial: string, name: string): string {
  return partial.includes('-') ? name.replace(/_/g, '-') : name;
}

// A completion and where, in the text it was asked for, the token it replaces starts (the
// token ends at the cursor).
interface Choice {
  item: CompletionItem;
  start: number;
}

// Completions for a parameter string (an options line's rest, or the insmod box).
export function paramCompletions(facts: ModuleFacts, text: string, offset: number):
  CompletionItem[] {
  return paramChoices(facts, text, offset).map((c) => c.item);
}

// The kernel's next_arg() splits the string at blanks into `name=value` tokens; an array's
// value is split again at commas. So a parameter name is completed from the blank before it,
// a scalar's value from the `=`, and an array element from the `=` or `,` before it.
function paramChoices(facts: ModuleFacts, text: string, offset: number): Choice[] {
  const ctx = contextOf(text, offset);
  const eq = ctx.partial.indexOf('=');
  if (eq < 0) {
    const given = new Set(ctx.before.map((w) => w.split('=')[0].replace(/-/g, '_')));
    return inModinfoOrder(facts).filter((p) => !given.has(p.name)).map((p) => ({
      start: ctx.partialStart,
      item: { label: `${p.name}=`, kind: CompletionItemKind.Property, detail: paramDetail(p),
        filterText: spelledAs(ctx.partial, `${p.name}=`), insertText: `${p.name}=`,
        documentation: paramDocumentation(facts, p) },
    }));
  }

  const name = ctx.partial.slice(0, eq).replace(/-/g, '_');
  const p = facts.params.find((x) => x.name === name);
  if (!p) return [];
  const valueStart = ctx.partialStart + eq + 1;
  const value = text.slice(valueStart, offset);
  const values = (start: number, list: { label: string; detail: string }[]): Choice[] =>
    list.map((v) => ({ start, item: { label: v.label, detail: v.detail,
      kind: CompletionItemKind.Value, filterText: v.label, insertText: v.label } }));
  if (p.arrayMax === undefined) return values(valueStart, valueChoices(p));

  // An array: the whole default only where it would be the whole value; inside a list, what
  // one element may be.
  const tokenEnd = /^[^ \t]*/.exec(text.slice(offset))![0];
  const element = value.split(',').length - 1;
  if (element === 0 && !tokenEnd.includes(',')) return values(valueStart, valueChoices(p));
  if (element >= p.arrayMax) return [];
  const elementStart = valueStart + value.lastIndexOf(',') + 1;
  return values(elementStart, elementChoices(p, element));
}

const BOOLS = ['bool', 'invbool', 'bint', 'bool_enable_only'];

// The values one element of an array parameter may take: yes/no for a bool array, else the
// default's own element at that index, if it has one.
function elementChoices(p: ModuleParam, element: number): { label: string; detail: string }[] {
  if (BOOLS.includes(p.type)) {
    const yes = p.type === 'invbool' ? 'stores false (invbool)' : 'true';
    const no = p.type === 'invbool' ? 'stores true (invbool)' : 'false';
    return [{ label: 'Y', detail: yes }, { label: 'N', detail: no },
      { label: '1', detail: yes }, { label: '0', detail: no }];
  }
  const v = elementDefault(p, element);
  if (v === undefined) return [];
  return [{ label: v, detail: `element ${element + 1} of the default` }];
}

export function modprobeCompletions(conf: ConfFile, pos: Position, dir: ModuleDirectory):
  CompletionItem[] {
  const at = lineAt(conf, pos);
  const text = at?.line.text ?? '';
  const offset = at?.offset ?? 0;
  const ctx = contextOf(text, offset);
  // Every item replaces its token up to the cursor: the editor's own idea of a word ends at
  // `-`, `=` and `,`, which are inside tokens here.
  const edited = (choices: Choice[]): CompletionItem[] => choices.map(({ item, start }) => {
    const range = at ? toRange(at.line, start, offset) : { start: pos, end: pos };
    const { insertText, ...rest } = item;
    return { ...rest, textEdit: { range, newText: insertText ?? item.label } };
  });
  const word = (items: CompletionItem[]) => edited(items.map((item) =>
    ({ item, start: ctx.partialStart })));

  if (ctx.before.length === 0) {
    return word(COMMANDS.map((c) => ({ label: c, kind: CompletionItemKind.Keyword,
      detail: 'modprobe.d command', documentation: COMMAND_DOCS[c] })));
  }
  const command = ctx.before[0];
  const wantsModule = (['options', 'install', 'remove', 'blacklist', 'softdep'].includes(command)
    && ctx.before.length === 1) || (command === 'alias' && ctx.before.length === 2);
  if (wantsModule) return word(moduleCompletions(dir, ctx.partial));
  if (command === 'softdep') {
    return word([
      { label: 'pre:', kind: CompletionItemKind.Keyword, detail: 'load these first' },
      { label: 'post:', kind: CompletionItemKind.Keyword, detail: 'load these after' },
      ...moduleCompletions(dir, ctx.partial),
    ]);
  }
  if (command !== 'options' || !at?.line.module) return [];
  const known = dir.lookup(at.line.moduleName!);
  if (!known?.facts) return [];
  const restStart = at.line.module.end + 1;
  const restOffset = at.offset - restStart;
  if (restOffset < 0) return [];
  return edited(paramChoices(known.facts, text.slice(restStart), restOffset)
    .map((c) => ({ ...c, start: c.start + restStart })));
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
  // Past the end of the line there is nothing to hover on (offsetAt gives the text's end).
  if (at.offset === line.text.length) {
    const end = placeOf(line, line.text.length);
    if (end.line !== pos.line || end.column < pos.character) return undefined;
  }
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
  const params = known.facts ? inModinfoOrder(known.facts) : [];
  if (params.length) out.push(`- parameters: ${params.map((p) => p.name).join(', ')}`);
  return out.join('\n');
}

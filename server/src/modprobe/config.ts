// modprobe.d(5) files as kmod 30 (Debian bookworm) reads them: one logical line at a time, a
// backslash before a newline joining two physical lines, and the first word naming the
// command. What kmod refuses is reported with kmod's own text, so a finding here reads like
// the line `modprobe` prints for the same file.
//
// kmod's reading, restated:
// - A backslash before a newline removes both; a backslash before any other character is
//   dropped and the character kept (so `\#` starts a comment after all).
// - A logical line that is empty or whose very first character is `#` is skipped; an
//   indented `#` is not a comment but a command named `#...`, which kmod refuses.
// - Words are separated by spaces and tabs. `options`, `install`, `remove` and `softdep` take
//   a module name and then everything after the one separator that ended the name, which must
//   not be empty; `alias` needs two words, `blacklist` one. Extra words are ignored.
// - The logical line is kept whole, NUL bytes included, but then read as a C string: its text
//   ends at its first NUL (a line starting with one is empty).
// - `include` and `config` are refused as deprecated; any other command is a bad line.
// - Module names get `-` turned into `_`, except inside `[...]` (alias patterns).
// - Tabs inside an `options` string become spaces before it is stored.

export type Command = 'options' | 'install' | 'remove' | 'blacklist' | 'softdep' | 'alias';

export const COMMANDS: readonly Command[] =
  ['options', 'install', 'remove', 'blacklist', 'softdep', 'alias'];

// Where a character of a logical line sits in the file (0-based line and UTF-16 column).
export interface Place {
  line: number;
  column: number;
}

export interface Word {
  text: string;
  // Offsets into the logical line's text.
  start: number;
  end: number;
}

export interface ConfProblem {
  severity: 'error' | 'warning' | 'info';
  // kmod's message, without libkmod's "ERROR file.c:NNN function:" prefix.
  message: string;
  // Set on a note of kmodsim's own, where kmod says nothing.
  ours?: boolean;
  start: number;
  end: number;
}

export interface ConfLine {
  text: string;
  // Where the characters of text came from, kept as runs (see placeOf), not per character: a
  // file of 100,000 lines would otherwise hold millions of small objects.
  runs: LineRuns;
  firstLine: number;
  // kmod counts lines up to the last physical line of a logical one, and names that one.
  lastLine: number;
  command?: Command;
  // The first word, whatever it is (absent on blank and comment lines).
  head?: Word;
  // The module name as written, and as kmod stores it (underscores).
  module?: Word;
  moduleName?: string;
  // The second word of `alias` (the pattern comes first there).
  target?: Word;
  targetName?: string;
  // The rest of the line for options/install/remove/softdep, as kmod stores it.
  rest?: Word;
  problems: ConfProblem[];
}

export interface ConfFile {
  file: string;
  lines: ConfLine[];
  // The `options` lines of each module (by kmod's name for it), in file order: every module
  // load asks for its own, and must not walk the whole file to find them.
  options: Map<string, ConfLine[]>;
}

// Triples (text offset, line, column): text[i] sits at the column of the last run starting at
// or before i, plus the distance from that run's start. A line with no backslash has one run.
export type LineRuns = readonly number[];

const isBlank = (c: string) => c === ' ' || c === '\t';

// What a backslash at the very end of the file leaves in the line (see logicalLines).
const EOF_BYTE = '\ufffd';

// Where text[i] of the line came from; i === text.length is the end of its last line.
export function placeOf(line: ConfLine, i: number): Place {
  const runs = line.runs;
  let r = 0;
  while (r + 3 < runs.length && runs[r + 3] <= i) r += 3;
  return { line: runs[r + 1], column: runs[r + 2] + (i - runs[r]) };
}

// The offset in the line's text of the first character at or after a position (the text's
// length when the position is past the line's end).
export function offsetAt(line: ConfLine, pos: { line: number; character: number }): number {
  for (let r = 0; r < line.runs.length; r += 3) {
    const start = line.runs[r];
    const end = r + 3 < line.runs.length ? line.runs[r + 3] : line.text.length + 1;
    if (end <= start) continue;
    const runLine = line.runs[r + 1];
    const column = line.runs[r + 2];
    if (runLine > pos.line) return Math.min(start, line.text.length);
    if (runLine === pos.line && column + (end - 1 - start) >= pos.character) {
      return Math.min(start + Math.max(0, pos.character - column), line.text.length);
    }
  }
  return line.text.length;
}

interface RawLine {
  text: string;
  runs: number[];
  first: number;
  last: number;
}

// getline_wrapped(): physical lines into logical ones, remembering where each char was. Text
// without a backslash is copied a slice at a time; lines come one by one, so that a caller can
// stop between them.
function* logicalLines(source: string): Generator<RawLine> {
  let line = 0;
  let column = 0;
  let text = '';
  let runs: number[] = [0, 0, 0];
  let first = 0;
  let pos = 0;
  // The next backslash and newline at or after pos (source.length when there is none): each
  // searched for once, whatever the file's shape.
  let backslash = -1;
  let newline = -1;

  while (pos < source.length) {
    if (backslash < pos) {
      backslash = source.indexOf('\\', pos);
      if (backslash < 0) backslash = source.length;
    }
    if (newline < pos) {
      newline = source.indexOf('\n', pos);
      if (newline < 0) newline = source.length;
    }
    const stop = Math.min(newline, backslash);
    text += source.slice(pos, stop);
    column += stop - pos;
    pos = stop;
    if (pos >= source.length) break;
    if (pos === newline) {
      yield { text, runs, first, last: line };
      text = '';
      line++;
      column = 0;
      first = line;
      runs = [0, line, 0];
      pos++;
      continue;
    }
    const next = source[pos + 1];
    if (next === '\n') {
      line++;
      column = 0;
      pos += 2;
      runs.push(text.length, line, 0);
      continue;
    }
    if (next === undefined) {
      // kmod stores the EOF it read after the backslash as a 0xff byte, which reads back
      // as U+FFFD; kept, and said so by parseLine.
      text += EOF_BYTE;
      column++;
      pos++;
      continue;
    }
    runs.push(text.length, line, column + 1);
    text += next;
    column += 2;
    pos += 2;
  }
  if (text.length > 0) yield { text, runs, first, last: line };
}

// strtok_r(" \t") from `from`: the next word and where its separator was.
function nextWord(text: string, from: number): Word | undefined {
  let start = from;
  while (start < text.length && isBlank(text[start])) start++;
  if (start >= text.length) return undefined;
  let end = start;
  while (end < text.length && !isBlank(text[end])) end++;
  return { text: text.slice(start, end), start, end };
}

// strtok_r(NULL, "\0"): whatever follows the one separator after `word`, if anything.
function restAfter(text: string, word: Word): Word | undefined {
  const start = word.end + 1;
  if (start >= text.length) return undefined;
  return { text: text.slice(start), start, end: text.length };
}

// underscores(): `-` becomes `_` outside `[...]`; an unmatched bracket is only an INFO line.
export function underscores(name: string, problems?: ConfProblem[], at?: Word): string {
  let out = '';
  let unmatched = false;
  for (let i = 0; i < name.length; i++) {
    const c = name[i];
    if (c === '-') {
      out += '_';
    } else if (c === ']') {
      unmatched = true;
      out += c;
    } else if (c === '[') {
      const close = name.indexOf(']', i);
      const end = close < 0 ? name.length : close;
      out += name.slice(i, end + (close < 0 ? 0 : 1));
      if (close < 0) unmatched = true;
      i = close < 0 ? name.length : close;
    } else {
      out += c;
    }
  }
  if (unmatched && problems && at) {
    problems.push({ severity: 'info', message: `Unmatched bracket in ${out}`, start: at.start,
      end: at.end });
  }
  return out;
}

// The runs of a text cut at `end`: those that start after it describe nothing any more.
function runsUpTo(runs: number[], end: number): number[] {
  const kept: number[] = [];
  for (let r = 0; r < runs.length && runs[r] <= end; r += 3) kept.push(runs[r], runs[r + 1],
    runs[r + 2]);
  return kept;
}

function parseLine(file: string, raw: RawLine): ConfLine {
  const nul = raw.text.indexOf('\0');
  const l = nul < 0 ? raw : { ...raw, text: raw.text.slice(0, nul), runs: runsUpTo(raw.runs, nul) };
  const line: ConfLine = { text: l.text, runs: l.runs, firstLine: l.first, lastLine: l.last,
    problems: [] };
  if (nul >= 0 && /[^\0]/.test(raw.text.slice(nul))) {
    line.problems.push({ severity: 'info', start: nul, end: nul, ours: true,
      message: 'kmod reads this line only up to its NUL byte: what follows it is ignored' });
  }
  if (l.text.endsWith(EOF_BYTE)) {
    line.problems.push({ severity: 'warning', start: l.text.length - 1, end: l.text.length,
      message: 'a backslash at the end of the file: kmod reads the end of file as a 0xff ' +
        'byte and keeps it in this line' });
  }
  if (l.text.length === 0 || l.text[0] === '#') return line;
  const head = nextWord(l.text, 0);
  if (!head) return line;
  line.head = head;

  const bad = () => {
    line.problems.push({ severity: 'error', start: head.start, end: l.text.length,
      message: `${file} line ${l.last + 1}: ignoring bad line starting with '${head.text}'` });
    return line;
  };

  switch (head.text) {
    case 'alias': {
      const pattern = nextWord(l.text, head.end);
      const target = pattern && nextWord(l.text, pattern.end);
      if (!pattern || !target) return bad();
      line.command = 'alias';
      line.module = pattern;
      line.moduleName = underscores(pattern.text, line.problems, pattern);
      line.target = target;
      line.targetName = underscores(target.text, line.problems, target);
      return line;
    }
    case 'blacklist': {
      const module = nextWord(l.text, head.end);
      if (!module) return bad();
      line.command = 'blacklist';
      line.module = module;
      line.moduleName = underscores(module.text, line.problems, module);
      return line;
    }
    case 'options': case 'install': case 'remove': case 'softdep': {
      const module = nextWord(l.text, head.end);
      const rest = module && restAfter(l.text, module);
      if (module) {
        // Kept on a bad line too, for completion while the line is being typed.
        line.module = module;
        line.moduleName = underscores(module.text, rest ? line.problems : undefined, module);
      }
      if (!module || !rest) return bad();
      line.command = head.text;
      line.rest = head.text === 'options' ? { ...rest, text: rest.text.replace(/\t/g, ' ') }
        : rest;
      return line;
    }
    case 'include': case 'config':
      line.problems.push({ severity: 'error', start: head.start, end: head.end,
        message: `${file}: command ${head.text} is deprecated and not parsed anymore` });
      return line;
    default:
      return bad();
  }
}

// The file's logical lines read one at a time (for a caller that parses in slices).
export function* modprobeLines(file: string, source: string): Generator<ConfLine> {
  for (const l of logicalLines(source)) yield parseLine(file, l);
}

// The file once all its lines are read: their `options` indexed by module.
export function confFileOf(file: string, lines: ConfLine[]): ConfFile {
  const options = new Map<string, ConfLine[]>();
  for (const l of lines) {
    if (l.command !== 'options' || !l.rest) continue;
    const list = options.get(l.moduleName!);
    if (list) list.push(l);
    else options.set(l.moduleName!, [l]);
  }
  return { file, lines, options };
}

export function parseModprobeConf(file: string, source: string): ConfFile {
  return confFileOf(file, [...modprobeLines(file, source)]);
}

// The words of a softdep line's rest, with the list each belongs to, as kmod splits them.
export interface SoftdepWord extends Word {
  list: 'pre' | 'post' | 'none' | 'marker';
}

export function softdepWords(rest: Word): SoftdepWord[] {
  const out: SoftdepWord[] = [];
  let list: SoftdepWord['list'] = 'none';
  let from = 0;
  for (;;) {
    const w = nextWord(rest.text, from);
    if (!w) break;
    from = w.end;
    const word = { text: w.text, start: rest.start + w.start, end: rest.start + w.end };
    if (w.text === 'pre:' || w.text === 'post:') {
      list = w.text === 'pre:' ? 'pre' : 'post';
      out.push({ ...word, list: 'marker' });
    } else {
      out.push({ ...word, list });
    }
  }
  return out;
}

// The options kmod would hand the kernel for one module: every `options` line for it, in
// file order, joined with spaces (kmod_module_get_options).
export function optionsFor(files: ConfFile[], module: string): string {
  const parts: string[] = [];
  for (const f of files) {
    for (const l of f.options.get(module) ?? []) parts.push(l.rest!.text);
  }
  return parts.join(' ');
}

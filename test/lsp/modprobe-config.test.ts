// The modprobe.d reader against kmod's own: for files full of edge cases, what kmod's modprobe
// stores (`modprobe -C FILE --showconfig`) and what it complains about must be what
// server/src/modprobe/config.ts reads and reports.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import {
  offsetAt, optionsFor, parseModprobeConf, placeOf, softdepWords, type ConfFile,
} from '../../server/src/modprobe/config.js';
import { makeWorkspace, removeWorkspace } from './fixtures.js';

interface Reading {
  errors: string[];
  entries: string[];
}

// kmod's dump of its configuration, up to the indexes, without what /proc/cmdline adds.
function showconfig(file: string): { stdout: string[]; errors: string[] } {
  const r = spawnSync('modprobe', ['-C', file, '--showconfig'], { encoding: 'utf8' });
  const stdout = r.stdout.split('# End of configuration files')[0].split('\n').filter(Boolean);
  const errors = r.stderr.split('\n').map((l) => /kmod_config_parse: (.*)$/.exec(l)?.[1])
    .filter((l): l is string => l !== undefined);
  return { stdout, errors };
}

function kmodReading(file: string, empty: string): Reading {
  const base = new Set(showconfig(empty).stdout);
  const got = showconfig(file);
  return { errors: got.errors, entries: got.stdout.filter((l) => !base.has(l)).map(normalize) };
}

// kmod prints a softdep's lists without a space before `post:`; compared as word lists.
function normalize(line: string): string {
  const m = /^softdep (\S+) pre:(.*?)post:(.*)$/.exec(line);
  if (!m) return line;
  const words = (s: string) => s.split(' ').filter(Boolean).join(' ');
  return `softdep ${m[1]} pre: ${words(m[2])} post: ${words(m[3])}`;
}

function ourReading(conf: ConfFile): Reading {
  const errors: string[] = [];
  const entries: string[] = [];
  for (const l of conf.lines) {
    for (const p of l.problems) if (p.severity === 'error') errors.push(p.message);
    switch (l.command) {
      case 'alias': entries.push(`alias ${l.moduleName} ${l.targetName}`); break;
      case 'blacklist': entries.push(`blacklist ${l.moduleName}`); break;
      case 'options': case 'install': case 'remove':
        entries.push(`${l.command} ${l.moduleName} ${l.rest!.text}`);
        break;
      case 'softdep': {
        const words = softdepWords(l.rest!);
        const list = (which: string) => words.filter((w) => w.list === which)
          .map((w) => w.text).join(' ');
        entries.push(`softdep ${l.moduleName} pre: ${list('pre')} post: ${list('post')}`);
        break;
      }
      default:
    }
  }
  return { errors, entries };
}

// kmod dumps its lists one kind after the other; the order within a kind is the file's.
function byKind(entries: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of entries) (out[e.split(' ')[0]] ??= []).push(e);
  return out;
}

const FILES: Record<string, string> = {
  'bad-lines.conf': [
    'options', 'foo bar', '  # indented', 'alias x', 'blacklist', 'install foo', 'softdep a',
    'remove b', 'include /x', 'config y', '\\# escaped comment', '#real comment', '',
    '   ', '\t', 'options foo ', 'options foo  ', 'unknown-command with words',
  ].join('\n') + '\n',
  'entries.conf': [
    'alias my-alias snd-foo',
    'alias pci:v[0-9-]*-x bar-baz extra',
    'blacklist some-mod trailing words',
    'install a-b /bin/true --x\tz',
    'remove c-d  /bin/false',
    'softdep e-f pre: g-h i post: j',
    'softdep k post:  l pre: m',
    'options n-o p=1\tq=2',
    'options\tr\t\ts=1',
    'options t   u=1 "v w"',
    'b\\lacklist escaped-letter',
    'options cont a=1 \\',
    '  b=2 \\',
    '\\',
    'c=3',
  ].join('\n') + '\n',
  'no-final-newline.conf': 'blacklist last-one\\',
  // To kmod's C the line ends at its first NUL: a line starting with one is empty.
  'nul.conf': [
    '\0garbage that kmod never sees',
    'options nul-a x=1\0 y=2',
    'blacklist nul-b\0',
    'opt\0ions nul-c',
    'options nul-d \\',
    'z=1\0 \\',
    'w=2',
  ].join('\n') + '\n',
};

test('kmod 30 and the reader agree on entries and complaints', () => {
  const dir = makeWorkspace(FILES);
  const empty = path.join(dir, 'empty.conf');
  fs.writeFileSync(empty, '');
  try {
    for (const name of Object.keys(FILES)) {
      const file = path.join(dir, name);
      const kmod = kmodReading(file, empty);
      const ours = ourReading(parseModprobeConf(file, fs.readFileSync(file, 'utf8')));
      assert.deepEqual(ours.errors, kmod.errors, name);
      assert.deepEqual(byKind(ours.entries), byKind(kmod.entries), name);
    }
  } finally {
    removeWorkspace(dir);
  }
});

// Where the file has each character the reader kept: the place it gives for text[i] must hold
// that character (a backslash-escaped one sits after its backslash), and a position maps back
// to the same offset.
test('every character of a logical line is placed where the file has it', () => {
  for (const [name, source] of Object.entries({ ...FILES, 'mixed.conf': MIXED })) {
    const physical = source.split('\n');
    for (const line of parseModprobeConf(name, source).lines) {
      for (let i = 0; i < line.text.length; i++) {
        if (line.text[i] === '\ufffd') continue;
        const at = placeOf(line, i);
        assert.equal(physical[at.line][at.column], line.text[i], `${name}: ${line.text} [${i}]`);
        assert.equal(offsetAt(line, { line: at.line, character: at.column }), i, name);
      }
      // The text ends at the end of its last physical line, or at the NUL that ends it.
      const end = placeOf(line, line.text.length);
      const cut = physical.slice(line.firstLine, line.lastLine + 1).some((p) => p.includes('\0'));
      if (cut) {
        assert.equal(physical[end.line][end.column], '\0', name);
        continue;
      }
      assert.equal(end.line, line.lastLine, name);
      assert.equal(end.column, physical[line.lastLine].length, name);
    }
  }
});

const MIXED = 'options a x=1 \\\n\\\n  y=\\2\\\tz\n\\#not a comment\n' +
  'alias p\\-q\\\n r\n\toptions b c=\u00e9\n';

// The reader keeps what kmod keeps per entry and offsets into its text, not an object per
// character: the server holds every modprobe.d file of the workspace parsed.
test('a 100,000-line file parsed holds memory in proportion to its lines', () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const lines: string[] = [];
  for (let i = 0; i < 100_000; i++) {
    lines.push(i % 2 ? `options m${i % 5000} times=${i}` : `alias pci:v${i}d* m${i}`);
  }
  const source = lines.join('\n') + '\n';
  gc();
  const before = process.memoryUsage().heapUsed;
  const conf = parseModprobeConf('/etc/modprobe.d/huge.conf', source);
  gc();
  const perLine = (process.memoryUsage().heapUsed - before) / conf.lines.length;
  assert.equal(conf.lines.length, 100_000);
  assert.equal(conf.lines[99_999].rest?.text, 'times=99999');
  // About 540 bytes now; an object per character made it 1,930.
  assert.ok(perLine < 1000, `${perLine.toFixed(0)} bytes per line`);
});

// Each module's options come from the file's index by module name; what it gives must be what
// kmod stores for that module, every entry in file order, on a file where the modules' lines
// are interleaved with each other, with bad lines and with continuations.
test('the options index gives each module what kmod stores for it, in file order', () => {
  const lines: string[] = [];
  for (let i = 0; i < 300; i++) {
    const m = `mod-${i % 7}`;
    if (i % 11 === 0) lines.push(`options ${m}`);
    else if (i % 13 === 0) lines.push(`options ${m} a=${i} \\`, `  b=${i}`);
    else if (i % 3 === 0) lines.push(`alias x${i} ${m}`);
    else lines.push(`options\t${m.replace('-', '_')}\tp${i}=${i}\tq`);
  }
  const dir = makeWorkspace({ 'index.conf': lines.join('\n') + '\n' });
  const file = path.join(dir, 'index.conf');
  fs.writeFileSync(path.join(dir, 'empty.conf'), '');
  try {
    const kmod = kmodReading(file, path.join(dir, 'empty.conf')).entries
      .filter((e) => e.startsWith('options '));
    const conf = parseModprobeConf(file, fs.readFileSync(file, 'utf8'));
    for (let k = 0; k < 7; k++) {
      const name = `mod_${k}`;
      const stored = kmod.filter((e) => e.startsWith(`options ${name} `))
        .map((e) => e.slice(`options ${name} `.length));
      assert.ok(stored.length > 10, name);
      assert.equal(optionsFor([conf], name), stored.join(' '), name);
      assert.deepEqual(conf.options.get(name)?.map((l) => l.rest!.text), stored, name);
    }
    assert.equal(optionsFor([conf], 'mod-0'), '');
  } finally {
    removeWorkspace(dir);
  }
});

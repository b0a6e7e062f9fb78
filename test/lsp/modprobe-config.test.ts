// The modprobe.d reader against kmod's own: for files full of edge cases, what kmod's modprobe
// stores (`modprobe -C FILE --showconfig`) and what it complains about must be what
// server/src/modprobe/config.ts reads and reports.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  parseModprobeConf, softdepWords, type ConfFile,
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

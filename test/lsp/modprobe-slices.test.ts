// A modprobe.d file of 100,000 lines checked a slice at a time (what the server does with the
// files of a workspace and its open documents): the event loop runs between the slices, so
// requests are answered meanwhile, and what comes out is what checking it in one go gives:
// kmod's complaints, the kernel's parse_args lines against hello.ko's real parameters, and the
// note on a module that cannot be checked said once, on its first line.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseModprobeConf } from '../../server/src/modprobe/config.js';
import {
  modprobeDiagnostics, modprobeDiagnosticsSliced, type ModuleDirectory,
} from '../../server/src/lsp/modprobe-docs.js';
import { readFacts } from '../../server/src/lsp/simulate.js';
import { parseModprobeSliced, Slicer } from '../../server/src/lsp/slices.js';
import { HELLO_DIR, turnsDuring } from './fixtures.js';

const FILE = '/etc/modprobe.d/huge.conf';
const LINES = 100_000;

function hugeConf(): { text: string; invalid: number[]; bad: number[]; unknown: number[] } {
  const lines: string[] = [];
  const invalid: number[] = [];
  const bad: number[] = [];
  const unknown: number[] = [];
  for (let i = 0; i < LINES; i++) {
    if (i % 1000 === 7) {
      invalid.push(i);
      lines.push('options hello times=abc');
    } else if (i % 5000 === 11) {
      bad.push(i);
      lines.push('optoins hello times=1');
    } else if (i % 10 === 3) {
      unknown.push(i);
      lines.push(`options no_such_module x=${i}`);
    } else {
      lines.push(i % 2 ? `options hello times=${i}` : `alias pci:v${i}d* hello`);
    }
  }
  return { text: lines.join('\n') + '\n', invalid, bad, unknown };
}

const hello = path.join(HELLO_DIR, 'hello.ko');
const facts = readFacts(hello);
const dir: ModuleDirectory = {
  lockdown: false,
  lookup: (name) => (name === 'hello' ? { facts, origin: 'workspace', file: hello } : undefined),
  names: () => [{ name: 'hello', origin: 'workspace', file: hello }],
};

test('a 100,000-line file is parsed and checked in slices, with the same diagnostics', async () => {
  const conf = hugeConf();
  const whole = modprobeDiagnostics(FILE, conf.text, dir).diagnostics;

  const parsed = await turnsDuring(parseModprobeSliced(FILE, conf.text, new Slicer()));
  assert.ok(parsed.turns > 0, 'the event loop ran while the file was parsed');
  assert.deepEqual(parsed.value, parseModprobeConf(FILE, conf.text));

  const checked = await turnsDuring(modprobeDiagnosticsSliced(parsed.value, dir, new Slicer()));
  assert.ok(checked.turns > 0, 'the event loop ran while the file was checked');
  assert.deepEqual(checked.value, whole);

  const text = (m: string | { value: string }) => (typeof m === 'string' ? m : m.value);
  const on = (re: RegExp) => checked.value.filter((d) => re.test(text(d.message)))
    .map((d) => d.range.start.line);
  assert.deepEqual(on(/^hello: `abc' invalid for parameter `times'\n/), conf.invalid);
  assert.deepEqual(on(/ignoring bad line starting with 'optoins'$/), conf.bad);
  // The module nobody has: one note, on its first options line, not one per line.
  assert.deepEqual(on(/^no module 'no_such_module' in the workspace/), [conf.unknown[0]]);
  assert.equal(checked.value.length, conf.invalid.length + conf.bad.length + 1);
});

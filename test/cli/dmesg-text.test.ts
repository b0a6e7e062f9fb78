// Kernel lines in human-readable output are shown as dmesg shows them: a byte that is neither
// printable nor white space as \xHH. The reference is the oracle's recording of the same
// damage (test/conformance/matrix, case elf-bad-magic: byte 1 of the ELF magic changed),
// whose raw text holds the DEL (0x7f) that dmesg prints as `\x7fELF`; JSON keeps it raw.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { SimulatedKernel } from '../../server/src/load/kernel.js';
import { sourceDiagnostics } from '../../server/src/lsp/csource.js';
import { modprobeDiagnostics } from '../../server/src/lsp/modprobe-docs.js';
import { renderReport } from '../../server/src/lsp/report.js';
import { readFacts } from '../../server/src/lsp/simulate.js';
import { dmesgText } from '../../server/src/report/text.js';
import { profileOf, REL_612, testModule } from '../support/corpus.js';

const REPO = path.resolve(__dirname, '..', '..');
const CLI = path.join(REPO, 'server', 'src', 'cli', 'main.ts');
const TSX = pathToFileURL(path.join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const HELLO = path.join(REPO, 'examples', 'hello', 'hello.ko');
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'kmodsim-dmesg-'));

interface RecordedCase { id: string; kmsg: { level: number; text: string }[] }

// The kernel's line for a module whose magic is broken, as the oracle recorded it on 6.12.
function recordedBadMagicLine(): { level: number; text: string } {
  const file = path.join(REPO, 'test', 'conformance', 'matrix', `${REL_612}.json`);
  const matrix = JSON.parse(fs.readFileSync(file, 'utf8')) as
    { batches: { cases: RecordedCase[] }[] };
  const found = matrix.batches.flatMap((b) => b.cases).find((c) => c.id === 'elf-bad-magic');
  assert.ok(found, 'elf-bad-magic is recorded');
  assert.equal(found.kmsg.length, 1);
  return found.kmsg[0];
}

// hello.ko with the same damage as the recorded case: 'E' of the magic made 'F'.
function badMagicModule(): string {
  const bytes = fs.readFileSync(HELLO);
  bytes[1] = 0x46;
  const file = path.join(TMP, 'badmagic.ko');
  fs.writeFileSync(file, bytes);
  return file;
}

function kmodsim(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', TSX, CLI, ...args],
    { cwd: TMP, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout };
}

const SHOWN = 'Invalid ELF header magic: != \\x7fELF';

test('the recorded line holds a raw DEL, which dmesgText writes as \\x7f', () => {
  const line = recordedBadMagicLine();
  assert.equal(line.text, 'Invalid ELF header magic: != \x7fELF');
  assert.equal(dmesgText(line.text), SHOWN);
  // White space stays; other control bytes and C1 bytes are hexed, the backslash is not.
  assert.equal(dmesgText('a\tb\nc\x00d\x1be\x9ff\\g'), 'a\tb\nc\\x00d\\x1be\\x9ff\\g');
});

test('kmodsim insmod: text shows \\x7fELF, --json keeps the raw byte', () => {
  const ko = badMagicModule();
  const text = kmodsim('insmod', ko);
  assert.equal(text.code, 1);
  assert.equal(text.out.split('\n')[0], `kern  :err   : ${SHOWN}`);
  assert.ok(!text.out.includes('\x7f'));

  const json = JSON.parse(kmodsim('insmod', ko, '--json').out);
  assert.deepEqual(json.lines, [recordedBadMagicLine()]);

  const check = kmodsim('check', ko);
  assert.equal(check.out.split('\n')[0], `${ko}: ENOEXEC: ${SHOWN}`);
});

test('the report document, its verdict and its diagnostics show \\x7fELF', () => {
  const bytes = new Uint8Array(fs.readFileSync(badMagicModule()));
  const result = SimulatedKernel.boot(profileOf(REL_612)).finitModule(bytes, '', 0);
  assert.deepEqual(result.lines, [recordedBadMagicLine()]);
  const rendered = renderReport({ file: 'badmagic.ko', target: REL_612, bootArgs: '',
    flags: [], params: '', providers: [], notes: [], result });

  assert.equal(rendered.verdict, `ENOEXEC: ${SHOWN}`);
  assert.ok(rendered.text.split('\n').includes(`  kern  :err   : ${SHOWN}`));
  assert.ok(!rendered.text.includes('\x7f'));
  assert.deepEqual(rendered.diagnostics.map((d) => d.message), ['ENOEXEC: Invalid module format',
    `elf_validity_check failed (errno 8): ${SHOWN}`]);
  for (const d of rendered.diagnostics) {
    assert.equal(typeof d.message, 'string');
    assert.ok(!String(d.message).includes('\x7f'));
    const line = rendered.text.split('\n')[d.range.start.line];
    assert.equal(d.range.end.character, line.length);
  }
});

test('a C-source diagnostic quoting a kernel line hexes the control byte of a value', () => {
  const ko = testModule(REL_612, 'kmsim_params');
  const facts = readFacts(ko);
  const result = SimulatedKernel.boot(profileOf(REL_612))
    .finitModule(new Uint8Array(fs.readFileSync(ko)), 'p_int=\x01', 0);
  assert.equal(result.lines.at(-1)?.text, "kmsim_params: `\x01' invalid for parameter `p_int'");
  const source = path.join(REPO, 'test', 'modules', 'src', 'kmsim_params.c');
  const messages = sourceDiagnostics(facts, result, [source]).get(source)!.map((d) => d.message);
  assert.ok(messages.includes("kmsim_params: `\\x01' invalid for parameter `p_int'"),
    messages.join(' | '));
});

test('a modprobe.d diagnostic quoting a kernel line hexes the control byte of a value', () => {
  const facts = readFacts(testModule(REL_612, 'kmsim_params'));
  const known = { name: 'kmsim_params', origin: 'workspace' as const, file: facts.file, facts };
  const dir = { lookup: (n: string) => (n === 'kmsim_params' ? known : undefined),
    names: () => [known], lockdown: false };
  const { diagnostics } = modprobeDiagnostics('/etc/modprobe.d/k.conf',
    'options kmsim_params p_int=\x01\n', dir);
  const messages = diagnostics.map((d) => String(d.message));
  assert.ok(messages.some((m) => m.includes("kmsim_params: `\\x01' invalid for parameter `p_int'")),
    messages.join(' | '));
  assert.ok(messages.every((m) => !m.includes('\x01')));
});

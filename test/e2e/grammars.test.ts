// The two TextMate grammars, tokenized by vscode-textmate with oniguruma, the engine VS Code
// itself runs them on: the modprobe.d grammar on the files Debian installs in
// /lib/modprobe.d and on the lines kmod treats specially, the report grammar on reports the
// language server renders for real modules.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, test } from 'node:test';
import * as oniguruma from 'vscode-oniguruma';
import * as tm from 'vscode-textmate';
import {
  ConfigurationRequest, createProtocolConnection, InitializedNotification, InitializeRequest,
  StreamMessageReader, StreamMessageWriter,
} from 'vscode-languageserver/node';
import type { SimulateInsmodResult } from '../../server/src/lsp/protocol.js';
import { REPO } from './harness.js';

interface Contributed { language: string; scopeName: string; path: string }
const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
const grammars: Contributed[] = pkg.contributes.grammars;

let registry: tm.Registry;

before(async () => {
  const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.length));
  registry = new tm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (sources) => new oniguruma.OnigScanner(sources),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scope) => {
      const g = grammars.find((x) => x.scopeName === scope);
      if (!g) return null;
      const file = path.join(REPO, g.path);
      return tm.parseRawGrammar(fs.readFileSync(file, 'utf8'), file);
    },
  });
});

interface Token { text: string; scopes: string[] }

async function tokenize(scope: string, text: string): Promise<Token[][]> {
  const grammar = await registry.loadGrammar(scope);
  assert.ok(grammar, scope);
  let stack = tm.INITIAL;
  return text.split('\n').map((line) => {
    const r = grammar.tokenizeLine(line, stack);
    stack = r.ruleStack;
    return r.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes }));
  });
}

// The innermost scope of the token whose text is `text` on that line.
function scopeOf(line: Token[], text: string): string {
  const t = line.find((x) => x.text === text);
  assert.ok(t, `no token '${text}' in ${JSON.stringify(line.map((x) => x.text))}`);
  return t.scopes.at(-1)!;
}

test('each contributed grammar belongs to a contributed language and exists', () => {
  const languages = new Set(pkg.contributes.languages.map((l: { id: string }) => l.id));
  assert.deepEqual(grammars.map((g) => g.language).sort(), ['kmodsim-report', 'modprobe']);
  for (const g of grammars) {
    assert.ok(languages.has(g.language), g.language);
    assert.ok(fs.existsSync(path.join(REPO, g.path)), g.path);
  }
});

test('Debian\'s /lib/modprobe.d files: every command is a keyword, nothing is invalid',
  async () => {
    const files = fs.readdirSync('/lib/modprobe.d').filter((f) => f.endsWith('.conf'));
    assert.ok(files.length > 0, 'kmod installs /lib/modprobe.d/*.conf');
    for (const f of files) {
      const text = fs.readFileSync(path.join('/lib/modprobe.d', f), 'utf8');
      const lines = await tokenize('source.modprobe', text);
      text.split('\n').forEach((src, i) => {
        const where = `${f}:${i + 1}: ${src}`;
        for (const t of lines[i]) assert.ok(!t.scopes.some((s) => s.startsWith('invalid')), where);
        const word = /^\s*(\S+)/.exec(src)?.[1];
        if (!word) return;
        if (word.startsWith('#')) {
          assert.ok(lines[i][0].scopes.some((s) => s.startsWith('comment.line')), where);
        } else {
          assert.equal(scopeOf(lines[i], word), `keyword.control.${word}.modprobe`, where);
        }
      });
    }
  });

test('modprobe.d: modules, parameters, values, an inline #, continuations', async () => {
  const [options, hashed, softdep, install, more, typo] = await tokenize('source.modprobe', [
    'options snd-pcsp index=-2 model="a b"',
    'options hello times=2 # two',
    'softdep uhci-hcd pre: ehci-hcd',
    'install foo /sbin/modprobe --ignore-install foo $CMDLINE_OPTS \\',
    '  && echo loaded',
    'option hello times=2',
  ].join('\n'));
  assert.equal(scopeOf(options, 'snd-pcsp'), 'entity.name.type.module.modprobe');
  assert.equal(scopeOf(options, 'index'), 'variable.parameter.modprobe');
  assert.equal(scopeOf(options, '-2'), 'constant.numeric.modprobe');
  assert.equal(scopeOf(options, '"a b"'), 'string.quoted.double.modprobe');
  // kmod does not strip it: the kernel gets "#" and "two" as parameters.
  assert.equal(scopeOf(hashed, '# two'), 'invalid.illegal.inline-hash.modprobe');
  assert.equal(scopeOf(softdep, 'pre:'), 'keyword.other.softdep-phase.modprobe');
  assert.equal(scopeOf(softdep, 'ehci-hcd'), 'entity.name.type.module.modprobe');
  assert.equal(scopeOf(install, '$CMDLINE_OPTS'), 'variable.language.cmdline-opts.modprobe');
  // The continued line is still the install command.
  assert.equal(scopeOf(more, '&&'), 'keyword.operator.shell.modprobe');
  assert.ok(more[0].scopes.includes('meta.embedded.shell-command.modprobe'));
  assert.equal(scopeOf(typo, 'option'), 'invalid.illegal.unknown-command.modprobe');
});

// Reports rendered by the language server itself (over stdio) for two refused loads.
async function serverReports(): Promise<SimulateInsmodResult[]> {
  const server = spawn(process.execPath, [path.join(REPO, 'dist', 'server.js'), '--stdio'],
    { stdio: ['pipe', 'pipe', 'inherit'] });
  const conn = createProtocolConnection(new StreamMessageReader(server.stdout),
    new StreamMessageWriter(server.stdin));
  // No settings: the server's defaults, the bundled 6.1 profile.
  conn.onRequest(ConfigurationRequest.type, (p) => p.items.map(() => null));
  conn.listen();
  try {
    await conn.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: null,
      capabilities: { workspace: { configuration: true } }, workspaceFolders: null });
    await conn.sendNotification(InitializedNotification.type, {});
    const ask = (file: string, params: string) => conn.sendRequest<SimulateInsmodResult>(
      'kmodsim/simulateInsmod', { file: path.join(REPO, file), params, kernel: '' });
    return [await ask('test/modules/build/6.12.107+deb12-amd64/kmsim_params.ko', ''),
      await ask('examples/hello/hello.ko', 'delays=1,2,3,4')];
  } finally {
    conn.dispose();
    server.kill();
  }
}

// The scope of a kernel line's "kern  :warn  :" prefix.
function levelOf(line: Token[]): string | undefined {
  return line.find((t) => t.text.startsWith('kern'))?.scopes.at(-1);
}

test('report documents: levels, steps, the verdict, insmod\'s error', async () => {
  assert.ok(fs.existsSync(path.join(REPO, 'dist', 'server.js')), 'node esbuild.mjs first');
  const [layout, params] = await serverReports();
  const find = (lines: Token[][], text: string[], re: RegExp) => {
    const i = text.findIndex((l) => re.test(l));
    assert.ok(i >= 0, `${re} in\n${text.join('\n')}`);
    return lines[i];
  };
  for (const r of [layout, params]) {
    const text = r.report.split('\n');
    const lines = await tokenize('text.kmodsim-report', r.report);
    // Every line that says something is coloured by some rule.
    text.forEach((src, i) => {
      if (src.trim() === '') return;
      assert.ok(lines[i].some((t) => t.scopes.length > 1), `uncoloured: ${src}`);
    });
    const verdict = find(lines, text, /^verdict:/);
    assert.ok(verdict.some((t) => t.scopes.includes(
      'markup.deleted.verdict-refused.kmodsim-report')));
    const insmod = find(lines, text, /insmod: ERROR:/);
    assert.equal(scopeOf(insmod, 'insmod: ERROR:'),
      'invalid.illegal.insmod-error.kmodsim-report');
  }
  const layoutText = layout.report.split('\n');
  const layoutLines = await tokenize('text.kmodsim-report', layout.report);
  const warn = find(layoutLines, layoutText, /disagrees about version of symbol module_layout/);
  assert.equal(levelOf(warn), 'keyword.other.log-level.warning.kmodsim-report');
  const failed = find(layoutLines, layoutText, /^\s*failed\s+check_modstruct_version/);
  assert.equal(scopeOf(failed, 'failed'), 'markup.deleted.step-failed.kmodsim-report');
  assert.equal(scopeOf(failed, 'check_modstruct_version'),
    'entity.name.function.step.kmodsim-report');

  const paramsText = params.report.split('\n');
  const paramsLines = await tokenize('text.kmodsim-report', params.report);
  const err = find(paramsLines, paramsText, /delays: can only take 3 arguments/);
  assert.equal(levelOf(err), 'keyword.other.log-level.error.kmodsim-report');
});

// kmodsim in a real VS Code (code-server's extension host), through the vscode API only: the
// diagnostics the language server publishes and what *Simulate insmod* returns and shows.
// Expected kernel lines are the kernel's formats as the qemu oracle recorded them; CRCs and
// vermagic strings are read from the files with kmod's own tools and Debian's Module.symvers.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { KmodsimApi } from '../../../client/src/extension.js';
import { reportUri, type SimulateInsmodResult } from '../../../server/src/lsp/protocol.js';

const ws = vscode.workspace.workspaceFolders![0].uri.fsPath;
const HELLO = path.join(ws, 'hello', 'hello.ko');
const PARAMS_612 = path.join(ws, 'params-6.12', 'kmsim_params.ko');
const CONF = vscode.Uri.file(path.join(ws, 'modprobe.d', 'kmodsim.conf'));
const CACHE = process.env.KMODSIM_CACHE ?? path.join(os.homedir(), '.cache', 'kmodsim');
const HEADERS_61 = path.join(CACHE, 'root', 'usr', 'src', 'linux-headers-6.1.0-57-amd64');
// A module tree gives the server sizeof(struct module) too, which headers alone do not.
const TREE_612 = path.join(CACHE, 'root', 'lib', 'modules', '6.12.107+deb12-amd64');

function modinfo(field: string, file: string): string {
  return execFileSync('modinfo', ['-F', field, file], { encoding: 'utf8' }).replace(/\n$/, '');
}

// modprobe --dump-modversions: "0x5002fa32\tmodule_layout" per line.
function moduleCrc(file: string, symbol: string): string {
  const out = execFileSync('modprobe', ['--dump-modversions', file], { encoding: 'utf8' });
  const line = out.split('\n').find((l) => l.split('\t')[1] === symbol);
  assert.ok(line, `${symbol} not in ${file}'s __versions`);
  return line.split('\t')[0];
}

// Module.symvers: "0x9060323f\tmodule_layout\tvmlinux\tEXPORT_SYMBOL\t" per line.
function kernelCrc(headers: string, symbol: string): string {
  const text = fs.readFileSync(path.join(headers, 'Module.symvers'), 'utf8');
  const line = text.split('\n').find((l) => l.split('\t')[1] === symbol);
  assert.ok(line, `${symbol} not in ${headers}/Module.symvers`);
  return line.split('\t')[0];
}

async function waitFor<T>(what: string, probe: () => T | undefined | false,
  ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function simulate(args: object): Promise<SimulateInsmodResult> {
  return await vscode.commands.executeCommand<SimulateInsmodResult>('kmodsim.simulateInsmod',
    args);
}

function lineOf(doc: vscode.TextDocument, re: RegExp): number {
  for (let i = 0; i < doc.lineCount; i++) if (re.test(doc.lineAt(i).text)) return i;
  assert.fail(`no line matching ${re} in ${doc.uri.toString()}:\n${doc.getText()}`);
}

describe('kmodsim in code-server', () => {
  let api: KmodsimApi;

  before(async () => {
    const ext = vscode.extensions.getExtension<KmodsimApi>('kmodsim.kmodsim');
    assert.ok(ext, 'the extension under development is loaded');
    api = await ext.activate();
  });

  after(async () => {
    await vscode.workspace.getConfiguration('kmodsim').update('kernel', undefined,
      vscode.ConfigurationTarget.Workspace);
  });

  it('opens modprobe.d files as the modprobe language', async () => {
    const doc = await vscode.workspace.openTextDocument(CONF);
    assert.equal(doc.languageId, 'modprobe');
  });

  it('publishes the kernel\'s verdict on each options line of the modprobe.d file', async () => {
    const diags = await waitFor('modprobe.d diagnostics', () => {
      const d = vscode.languages.getDiagnostics(CONF);
      return d.length >= 3 && d;
    });
    const seen = diags.map((d) => [d.range.start.line, d.range.start.character, d.severity,
      d.message.split('\n')[0]]).sort();
    // Columns: the value or parameter after "options hello ".
    assert.deepEqual(seen, [
      [1, 14, vscode.DiagnosticSeverity.Error, "hello: `lots' invalid for parameter `times'"],
      [2, 14, vscode.DiagnosticSeverity.Error, 'delays: can only take 3 arguments'],
      [3, 14, vscode.DiagnosticSeverity.Warning, "hello: unknown parameter 'nosuch' ignored"],
    ]);
    const delays = diags.find((d) => d.range.start.line === 2)!;
    assert.match(delays.message, /^hello: `1' invalid for parameter `delays'$/m);
  });

  it('puts the parameter finding on the module_param line of the C source', async () => {
    const source = vscode.Uri.file(path.join(ws, 'hello', 'hello.c'));
    const lines = fs.readFileSync(source.fsPath, 'utf8').split('\n');
    const declared = lines.findIndex((l) => l.startsWith('module_param(times,'));
    assert.ok(declared >= 0);
    const d = await waitFor('hello.c diagnostics', () => vscode.languages.getDiagnostics(source)
      .find((x) => x.range.start.line === declared));
    assert.equal(d.message.split('\n')[0], "hello: `lots' invalid for parameter `times'");
  });

  it('completes and explains parameter names in the modprobe.d file', async () => {
    const doc = await vscode.workspace.openTextDocument(CONF);
    const at = new vscode.Position(3, 'options hello '.length);
    const list = await vscode.commands.executeCommand<vscode.CompletionList>(
      'vscode.executeCompletionItemProvider', doc.uri, at);
    const byName = new Map(list.items.map((i) => [
      (typeof i.label === 'string' ? i.label : i.label.label).replace(/=$/, ''), i]));
    for (const name of ['times', 'greeting', 'delays']) assert.ok(byName.has(name), name);

    // The hover on `times` shows what modinfo prints for it: type, description, permissions.
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
      'vscode.executeHoverProvider', doc.uri, new vscode.Position(1, 'options hello t'.length));
    const text = hovers.flatMap((h) => h.contents.map((c) =>
      typeof c === 'string' ? c : c.value)).join('\n');
    const parm = modinfo('parm', HELLO).split('\n').find((l) => l.startsWith('times:'))!;
    const description = parm.slice('times:'.length).replace(/ \(int\)$/, '');
    assert.ok(text.includes(description), text);
    assert.match(text, /\bint\b/);
    assert.match(text, /0444/);
  });

  it('Show module info prints what modinfo(8) prints', async () => {
    const text = await vscode.commands.executeCommand<string>('kmodsim.showModuleInfo', HELLO);
    const real = execFileSync('modinfo', [HELLO], { encoding: 'utf8' });
    assert.ok(text.startsWith(real), `${text}\n--- modinfo:\n${real}`);
    assert.equal(vscode.window.activeTextEditor?.document.getText(), text);
  });

  it('renders a watched module\'s report with the modprobe.d options applied', async () => {
    // Opened by URI alone, so the content provider asks the server (kmodsim/report).
    const uri = vscode.Uri.parse(reportUri(HELLO));
    const doc = await vscode.workspace.openTextDocument(uri);
    assert.equal(doc.languageId, 'kmodsim-report');
    // modprobe passes all three options lines as one string; parse_args reports each bad
    // argument and goes on, and the unknown one is ignored with a warning.
    const text = doc.getText();
    const log = text.slice(text.indexOf('kernel log:')).split('\n')
      .filter((l) => /^\s+kern\s*:/.test(l)).map((l) => l.replace(/^\s+kern\s*:\s*\w+\s*: /, ''));
    assert.deepEqual(log, [
      'hello: loading out-of-tree module taints kernel.',
      'hello: module verification failed: signature and/or required key missing - ' +
        'tainting kernel',
      "hello: `lots' invalid for parameter `times'",
      'delays: can only take 3 arguments',
      "hello: `1' invalid for parameter `delays'",
      "hello: unknown parameter 'nosuch' ignored",
    ], text);
    const diags = await waitFor('diagnostics on the watched report', () => {
      const d = vscode.languages.getDiagnostics(uri);
      return d.length > 0 && d;
    });
    assert.ok(diags.some((d) => d.code === 'EINVAL' ||
      (typeof d.code === 'object' && d.code.value === 'EINVAL')), JSON.stringify(diags));
  });

  it('Simulate insmod: a 6.12 module on the bundled 6.1 profile fails at module_layout',
    async () => {
      const r = await simulate({ file: PARAMS_612, kernel: '', params: '', flags: {} });
      assert.equal(r.ok, false);
      assert.equal(r.errnoName, 'ENOEXEC');
      assert.equal(r.errno, 8);
      assert.deepEqual(r.lines,
        ['<4>kmsim_params: disagrees about version of symbol module_layout']);

      // The report names both CRCs of module_layout as the files hold them.
      const mine = moduleCrc(PARAMS_612, 'module_layout');
      const theirs = kernelCrc(HEADERS_61, 'module_layout');
      assert.notEqual(mine, theirs);
      assert.ok(r.report.includes(mine) && r.report.includes(theirs), r.report);

      // The report is open, with the server's error diagnostic on the failing step's line.
      const uri = vscode.Uri.parse(r.reportUri);
      const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
      assert.ok(doc, `report document ${r.reportUri} is open`);
      assert.equal(doc.languageId, 'kmodsim-report');
      assert.equal(doc.getText(), r.report);
      assert.equal(vscode.window.activeTextEditor?.document, doc);
      const failed = lineOf(doc, /^\s*failed\s+check_modstruct_version\b/);
      const diags = await waitFor('report diagnostics', () => {
        const d = vscode.languages.getDiagnostics(uri);
        return d.some((x) => x.range.start.line === failed) && d;
      });
      const onStep = diags.find((d) => d.range.start.line === failed)!;
      assert.equal(onStep.severity, vscode.DiagnosticSeverity.Error);
      assert.match(onStep.message, /check_modstruct_version/);

      assert.match(api.statusText(),
        /kmsim_params: ENOEXEC: kmsim_params: disagrees about version of symbol module_layout/);
    });

  it('Simulate insmod passes the parameter string: one delay too many is EINVAL', async () => {
    const r = await simulate({ file: HELLO, kernel: '', params: 'times=2 delays=1,2,3,4',
      flags: {} });
    assert.equal(r.ok, false);
    assert.equal(r.errnoName, 'EINVAL');
    assert.deepEqual(r.lines, [
      '<4>hello: loading out-of-tree module taints kernel.',
      '<5>hello: module verification failed: signature and/or required key missing - ' +
        'tainting kernel',
      '<3>delays: can only take 3 arguments',
      "<3>hello: `1' invalid for parameter `delays'",
    ]);
  });

  it('Simulate insmod passes the flags: ignoring modversions stops the 6.12 module at vermagic',
    async () => {
      const r = await simulate({ file: PARAMS_612, kernel: '', params: '',
        flags: { ignoreModversions: true } });
      assert.equal(r.ok, false);
      assert.equal(r.errnoName, 'ENOEXEC');
      // Debian's 6.1 has CONFIG_MODULE_FORCE_LOAD=y: the skipped check only taints.
      assert.ok(r.lines.includes('<4>kmsim_params: module_layout: kernel tainted.'),
        r.lines.join('\n'));
      const theirs = modinfo('vermagic', PARAMS_612);
      const ours = modinfo('vermagic', HELLO);
      assert.equal(r.lines.at(-1),
        `<3>kmsim_params: version magic '${theirs}' should be '${ours}'`);
    });

  it('Select target kernel: the 6.12 module tree makes the 6.12 module load', async () => {
    const stored = await vscode.commands.executeCommand<string>('kmodsim.selectTarget',
      TREE_612);
    assert.equal(stored, TREE_612);
    assert.equal(vscode.workspace.getConfiguration('kmodsim').get('kernel'), TREE_612);
    const r = await simulate({ file: PARAMS_612, kernel: null, params: '', flags: {} });
    assert.deepEqual([r.ok, r.errnoName], [true, ''], r.report);
    assert.deepEqual(r.lines, [
      '<4>kmsim_params: loading out-of-tree module taints kernel.',
      '<5>kmsim_params: module verification failed: signature and/or required key missing - ' +
        'tainting kernel',
    ]);
    await vscode.commands.executeCommand('kmodsim.selectTarget', '');
  });
  it('a rebuilt module is simulated again: the 6.1 build of kmsim_params loads', async () => {
    const ext = vscode.extensions.getExtension<KmodsimApi>('kmodsim.kmodsim')!;
    const built61 = path.join(ext.extensionPath, 'test', 'modules', 'build', '6.1.0-57-amd64',
      'kmsim_params.ko');
    const uri = vscode.Uri.parse(reportUri(PARAMS_612));
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    // The target was set back to the bundled 6.1 profile, which the server re-simulates on.
    await waitFor('the status bar verdict of the 6.12 build',
      () => /kmsim_params: ENOEXEC/.test(api.statusText()));

    // As a rebuild would: the file changes in place; VS Code's watcher tells the server.
    fs.copyFileSync(built61, PARAMS_612);
    await waitFor('the status bar verdict of the rebuilt module',
      () => /kmsim_params: loads/.test(api.statusText()));
    await waitFor('the report of the rebuilt module', () =>
      /^verdict: finit_module returns 0: the module loads/m.test(doc.getText()));
    const errors = vscode.languages.getDiagnostics(uri)
      .filter((d) => d.severity === vscode.DiagnosticSeverity.Error);
    assert.deepEqual(errors.map((d) => d.message), []);
  });
  // Last: it kills the server.
  it('a server process that dies is restarted, and the user is told', async () => {
    const before = serverPids();
    assert.equal(before.length, 1, `server processes: ${before.join(', ')}`);
    process.kill(before[0], 'SIGKILL');
    const after = await waitFor('a new server process', () => {
      const now = serverPids();
      return now.length === 1 && now[0] !== before[0] && api.client.isRunning() && now;
    });
    assert.notEqual(after[0], before[0]);
    assert.equal(api.restarts.total, 1);
    assert.equal(api.lastRestartMessage(), 'kmodsim: the language server stopped unexpectedly ' +
      '(once in this session) and has been restarted; see the kmodsim output for why');
    // The new server answers, with the workspace's modules scanned again.
    const r = await api.client.sendRequest<{ modules: { file: string }[] }>('kmodsim/modules',
      { wait: true });
    assert.ok(r.modules.some((m) => m.file === HELLO), JSON.stringify(r.modules));
  });
});

// The language server processes this extension host started (dist/server.js over IPC).
function serverPids(): number[] {
  const out: number[] = [];
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (ppid === process.pid && cmdline.includes('dist/server.js')) out.push(Number(pid));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

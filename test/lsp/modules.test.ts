// The bundled language server over stdio on real built modules: the report document and its
// diagnostics, the C-source diagnostics, a rebuild, a damaged file beside good ones, and a
// signed Debian module. Kernel lines are the kernel's own formats as the oracle recorded
// them for the same situations (kernel-load.md, test/conformance/recorded).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import { modulesDir, REL_61, REL_612, testModule } from '../support/corpus.js';
import { fileUri, LspClient } from './client.js';
import { HELLO_DIR, makeWorkspace, moduleTree, removeWorkspace, writeFile } from './fixtures.js';

interface ModulesResult {
  modules: { file: string; name: string; ok: boolean; verdict: string; reportUri: string }[];
  scanning: boolean;
}

const reportUriOf = (ko: string) => `kmodsim-report:${encodeURI(ko)}.report`;
const messages = (d: Diagnostic[]) => d.map((x) => x.message);

function lineOf(file: string, needle: string): number {
  const i = fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(needle));
  assert.ok(i >= 0, `${needle} not in ${file}`);
  return i;
}

describe('the example module in a workspace', () => {
  let ws: string;
  let client: LspClient;

  before(async () => {
    ws = makeWorkspace({
      'hello.ko': { copy: path.join(HELLO_DIR, 'hello.ko') },
      'hello.c': { copy: path.join(HELLO_DIR, 'hello.c') },
      'Kbuild': { copy: path.join(HELLO_DIR, 'Kbuild') },
      // Not a module: the server must say so and go on with the others.
      'broken.ko': new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 1, 2, 3]),
    });
    client = await LspClient.start({ folders: [ws] });
  });

  after(async () => {
    await client.stop();
    removeWorkspace(ws);
  });

  test('hello.ko loads with taints O and E; the report shows the kernel lines', async () => {
    const r = await client.request<ModulesResult>('kmodsim/modules', { wait: true });
    const hello = r.modules.find((m) => m.name === 'hello')!;
    assert.equal(hello.ok, true);
    assert.equal(hello.verdict, 'loads (OE)');
    const report = await client.request<{ text: string }>('kmodsim/report',
      { uri: hello.reportUri });
    const lines = report.text.split('\n');
    assert.ok(lines.includes('  kern  :warn  : hello: loading out-of-tree module taints ' +
      'kernel.'), report.text);
    assert.ok(lines.includes('  kern  :notice: hello: module verification failed: signature ' +
      'and/or required key missing - tainting kernel'), report.text);
    assert.ok(lines.includes('verdict: finit_module returns 0: the module loads (taint OE)'));
    const diags = await client.diagnosticsOf(hello.reportUri);
    assert.deepEqual(diags.filter((d) => d.severity === 1), []);
    assert.ok(messages(diags).includes(
      'init_module() return value: assumed 0 (the simulation cannot run it)'));
  });

  test('a file that is not a module gets ENOEXEC on its own report, the others go on', async () => {
    const r = await client.request<ModulesResult>('kmodsim/modules', { wait: true });
    const broken = r.modules.find((m) => m.file.endsWith('broken.ko'))!;
    assert.equal(broken.ok, false);
    assert.match(broken.verdict, /^ENOEXEC: /);
    const diags = await client.diagnosticsOf(reportUriOf(path.join(ws, 'broken.ko')));
    const text = (await client.request<{ text: string }>('kmodsim/report',
      { uri: broken.reportUri })).text;
    const failed = diags.find((d) => d.code === 'ENOEXEC')!;
    assert.equal(text.split('\n')[failed.range.start.line],
      'verdict: finit_module returns -1 ENOEXEC (Exec format error)');
    assert.equal(r.modules.find((m) => m.name === 'hello')!.ok, true);
  });

  test('modprobe.d options reach the load; the C source shows the refusal', async () => {
    writeFile(ws, 'modprobe.d/hello.conf', 'options hello times=abc\n');
    const c = path.join(ws, 'hello.c');
    const diags = await client.diagnosticsOf(fileUri(c), (d) => d.length > 0);
    const want = "hello: `abc' invalid for parameter `times'";
    // Once, on module_param, pointing at the argument of the modprobe.d line that set it.
    assert.deepEqual(diags.map((d) => [d.range.start.line, d.message, d.severity,
      d.relatedInformation]), [
      [lineOf(c, 'module_param(times'), want, 1, [{ message: 'times set here',
        location: { uri: fileUri(path.join(ws, 'modprobe.d/hello.conf')),
          range: { start: { line: 0, character: 14 }, end: { line: 0, character: 23 } } } }]],
    ]);
    const r = await client.request<ModulesResult>('kmodsim/modules', { wait: true });
    assert.equal(r.modules.find((m) => m.name === 'hello')!.verdict, `EINVAL: ${want}`);
    const report = await client.request<{ text: string }>('kmodsim/report',
      { uri: reportUriOf(path.join(ws, 'hello.ko')) });
    assert.match(report.text, /^parameters: times=abc\n {2}from .*hello\.conf line 1$/m);

    // Taking the line away brings the load back, and clears the C source.
    fs.rmSync(path.join(ws, 'modprobe.d'), { recursive: true });
    await client.diagnosticsOf(fileUri(c), (d) => d.length === 0);
  });

  test('a rebuilt file is simulated again: a licence change taints P, on MODULE_LICENSE',
    async () => {
      const bytes = fs.readFileSync(path.join(HELLO_DIR, 'hello.ko'));
      const at = bytes.indexOf('license=GPL\0');
      assert.ok(at > 0);
      const edited = Buffer.from(bytes);
      edited.write('license=MIT\0', at, 'latin1');
      // Written in two steps, as a linker does; only the settled file counts.
      const ko = path.join(ws, 'hello.ko');
      fs.writeFileSync(ko, edited.subarray(0, 100));
      fs.appendFileSync(ko, edited.subarray(100));
      const c = path.join(ws, 'hello.c');
      const diags = await client.diagnosticsOf(fileUri(c), (d) => d.length > 0);
      assert.equal(diags.length, 1);
      assert.equal(diags[0].range.start.line, lineOf(c, 'MODULE_LICENSE('));
      assert.equal(diags[0].severity, 2);
      assert.equal(String(diags[0].message).split('\n')[0],
        "hello: module license 'MIT' taints kernel.");
      const r = await client.request<ModulesResult>('kmodsim/modules', { wait: true });
      assert.equal(r.modules.find((m) => m.name === 'hello')!.verdict, 'loads (POE)');
    });

  test('a deleted module loses its diagnostics', async () => {
    const ko = path.join(ws, 'broken.ko');
    fs.rmSync(ko);
    await client.diagnosticsOf(reportUriOf(ko), (d) => d.length === 0);
    const r = await client.request<ModulesResult>('kmodsim/modules', { wait: true });
    assert.equal(r.modules.some((m) => m.file === ko), false);
  });

  test('a deleted module\'s options lines are checked again at once; its report is cleared',
    async () => {
      const conf = path.join(ws, 'modprobe.d/h.conf');
      writeFile(ws, 'modprobe.d/h.conf', 'options hello times=x\n');
      const invalid = "hello: `x' invalid for parameter `times'";
      await client.diagnosticsOf(fileUri(conf), (d) => d.length === 1 &&
        String(d[0].message).startsWith(invalid));

      const ko = path.join(ws, 'hello.ko');
      fs.rmSync(ko);
      await client.notify('workspace/didChangeWatchedFiles',
        { changes: [{ uri: fileUri(ko), type: 3 }] });
      const diags = await client.diagnosticsOf(fileUri(conf), (d) => d.length === 1 &&
        !String(d[0].message).startsWith(invalid));
      assert.deepEqual(messages(diags), ["no module 'hello' in the workspace or the target " +
        "kernel's tree: its parameters are not checked"]);

      // The client re-asks for the report after the reportChanged of the delete.
      const uri = reportUriOf(ko);
      const report = await client.request<{ text: string }>('kmodsim/report', { uri });
      assert.equal(report.text, `kmodsim report: ${ko}\nthe module file no longer exists\n`);
      assert.deepEqual(client.diagnostics.get(uri), []);
    });
});

describe('symbols on the C source', () => {
  const build = (name: string) => path.dirname(testModule(REL_61, name));

  test('each refused parameter is one diagnostic, on module_param, linked to its argument',
    async () => {
      const dir = build('kmsim_params');
      const ws = makeWorkspace({
        'kmsim_params.ko': { copy: path.join(dir, 'kmsim_params.ko') },
        'kmsim_params.c': { copy: path.join(dir, 'kmsim_params.c') },
        // The kernel goes on after a bad argument: both are refused, the last error returned.
        'modprobe.d/p.conf': 'options kmsim_params p_int=x \\\n  p_byte=0x100\n',
      });
      const client = await LspClient.start({ folders: [ws] });
      try {
        const c = path.join(ws, 'kmsim_params.c');
        const d = await client.diagnosticsOf(fileUri(c), (x) => x.length > 0);
        const conf = fileUri(path.join(ws, 'modprobe.d/p.conf'));
        const at = (line: number, start: number, end: number) => [{ message: '', location:
          { uri: conf, range: { start: { line, character: start },
            end: { line, character: end } } } }];
        assert.deepEqual(d.map((x) => [x.range.start.line, x.message, x.relatedInformation
          ?.map((r) => ({ ...r, message: '' }))]), [
          [lineOf(c, 'module_param(p_int,'), "kmsim_params: `x' invalid for parameter `p_int'",
            at(0, 21, 28)],
          [lineOf(c, 'module_param(p_byte,'),
            "kmsim_params: `0x100' invalid for parameter `p_byte'", at(1, 2, 14)],
        ]);
        assert.equal(d[0].relatedInformation![0].message, 'p_int set here');
      } finally {
        await client.stop();
        removeWorkspace(ws);
      }
    });

  test('a missing namespace import and unknown symbols are put on the call sites', async () => {
    const dir = build('kmsim_user_nons');
    const ws = makeWorkspace({
      'uses/kmsim_user_nons.ko': { copy: path.join(dir, 'kmsim_user_nons.ko') },
      'uses/kmsim_user_nons.c': { copy: path.join(dir, 'kmsim_user_nons.c') },
      'uses/kmsim_user.ko': { copy: path.join(dir, 'kmsim_user.ko') },
      'uses/kmsim_user.c': { copy: path.join(dir, 'kmsim_user.c') },
      'uses/kmsim_ns.h': { copy: path.join(dir, 'kmsim_ns.h') },
      'uses/Kbuild': 'obj-m := kmsim_user.o kmsim_user_nons.o\n',
    });
    const client = await LspClient.start({ folders: [ws] });
    try {
      // Without the exporting module, every import is unknown (err -2) on the call line.
      const user = path.join(ws, 'uses', 'kmsim_user.c');
      let d = await client.diagnosticsOf(fileUri(user), (x) => x.length >= 4);
      const call = lineOf(user, 'kmsim_plain(1)');
      assert.deepEqual([...new Set(d.map((x) => x.range.start.line))], [call]);
      assert.deepEqual(d.map((x) => x.message).sort(), [
        'kmsim_user: Unknown symbol kmsim_gpl_only (err -2)',
        'kmsim_user: Unknown symbol kmsim_in_ns (err -2)',
        'kmsim_user: Unknown symbol kmsim_plain (err -2)',
        'kmsim_user: Unknown symbol kmsim_shared_counter (err -2)',
      ]);

      // The exporter appears in the workspace: the users are loaded against it.
      writeFile(ws, 'exports/kmsim_exports.ko', { copy: path.join(dir, 'kmsim_exports.ko') });
      d = await client.diagnosticsOf(fileUri(user), (x) => x.length === 0);
      const nons = path.join(ws, 'uses', 'kmsim_user_nons.c');
      d = await client.diagnosticsOf(fileUri(nons), (x) => x.length >= 1);
      const at = lineOf(nons, 'kmsim_in_ns(3)');
      assert.deepEqual(d.map((x) => [x.range.start.line, x.message]), [
        [at, 'kmsim_user_nons: module uses symbol (kmsim_in_ns) from namespace KMSIM, but ' +
          "does not import it.\nadd MODULE_IMPORT_NS(KMSIM) to the module's source"],
        [at, 'kmsim_user_nons: Unknown symbol kmsim_in_ns (err -22)'],
      ]);
      const line = fs.readFileSync(nons, 'utf8').split('\n')[at];
      assert.equal(line.slice(d[0].range.start.character, d[0].range.end.character),
        'kmsim_in_ns');
      const r = await client.request<ModulesResult>('kmodsim/modules', { wait: true });
      assert.deepEqual(r.modules.map((m) => [m.name, m.verdict]), [
        ['kmsim_exports', 'loads (OE)'],
        ['kmsim_user', 'loads (OE)'],
        ['kmsim_user_nons', 'EINVAL: kmsim_user_nons: module uses symbol (kmsim_in_ns) from ' +
          'namespace KMSIM, but does not import it.'],
      ]);
    } finally {
      await client.stop();
      removeWorkspace(ws);
    }
  });
});

test('a module that imports the wrong namespace gets the finding on MODULE_IMPORT_NS', async () => {
  const dir = path.dirname(testModule(REL_61, 'kmsim_user'));
  const edited = Buffer.from(fs.readFileSync(path.join(dir, 'kmsim_user.ko')));
  const at = edited.indexOf('import_ns=KMSIM\0');
  assert.ok(at > 0);
  edited.write('import_ns=KMSIX\0', at, 'latin1');
  const ws = makeWorkspace({
    'kmsim_user.ko': edited,
    'kmsim_user.c': { copy: path.join(dir, 'kmsim_user.c') },
    'kmsim_exports.ko': { copy: path.join(dir, 'kmsim_exports.ko') },
  });
  const client = await LspClient.start({ folders: [ws] });
  try {
    const c = path.join(ws, 'kmsim_user.c');
    const d = await client.diagnosticsOf(fileUri(c), (x) => x.length > 0);
    const ns = d.filter((x) => String(x.message).includes('namespace'));
    assert.deepEqual(ns.map((x) => [x.range.start.line, x.message]), [
      [lineOf(c, 'MODULE_IMPORT_NS('), 'kmsim_user: module uses symbol (kmsim_in_ns) from ' +
        "namespace KMSIM, but does not import it.\nadd MODULE_IMPORT_NS(KMSIM) to the module's " +
        'source'],
    ]);
  } finally {
    await client.stop();
    removeWorkspace(ws);
  }
});

describe('a signed Debian module', () => {
  test('vfio-pci.ko (35 KB) loads on its own kernel, its dependencies in place', async () => {
    const ko = path.join(modulesDir(REL_61), 'kernel/drivers/vfio/pci/vfio-pci.ko');
    const ws = makeWorkspace({ 'vfio-pci.ko': { copy: ko } });
    const client = await LspClient.start({ folders: [ws] });
    try {
      const r = await client.request<ModulesResult>('kmodsim/modules', { wait: true });
      assert.deepEqual(r.modules.map((m) => [m.name, m.ok, m.verdict]),
        [['vfio_pci', true, 'loads']]);
      const report = await client.request<{ text: string }>('kmodsim/report',
        { uri: r.modules[0].reportUri });
      assert.match(report.text, /^kernel log:\n {2}\(nothing printed\)$/m);
      assert.match(report.text, /^ {2}ok {6}module_sig_check/m);

      // Under module.sig_enforce=1 the Debian signature still verifies, so the load gets as
      // far as parse_args, which refuses a bool that is neither y/n/1/0/on/off.
      await client.changeSettings({ kernelConfig: { sigEnforce: true } });
      const status = await client.request<{ verdict: string; report: string }>(
        'kmodsim/simulateInsmod', { file: path.join(ws, 'vfio-pci.ko'),
          params: 'disable_vga=maybe' });
      assert.equal(status.verdict, "EINVAL: vfio_pci: `maybe' invalid for parameter " +
        '`disable_vga\'');
      assert.match(status.report, /^boot: module\.sig_enforce=1$/m);
    } finally {
      await client.stop();
      removeWorkspace(ws);
    }
  });
});

describe('a compressed module and a target that cannot be read', () => {
  test('vfio-pci.ko.xz of 6.12 loads on its own kernel through init_module', async () => {
    const outside = makeWorkspace({});
    const tree = moduleTree(outside, REL_612);
    const ko = path.join(modulesDir(REL_612), 'kernel/drivers/vfio/pci/vfio-pci.ko.xz');
    const ws = makeWorkspace({ 'vfio-pci.ko.xz': { copy: ko } });
    const client = await LspClient.start({ folders: [ws], settings: { kernel: tree } });
    try {
      const r = await client.request<ModulesResult>('kmodsim/modules', { wait: true });
      assert.deepEqual(r.modules.map((m) => [m.name, m.verdict]), [['vfio_pci', 'loads']]);
      const report = await client.request<{ text: string }>('kmodsim/report',
        { uri: r.modules[0].reportUri });
      assert.match(report.text, new RegExp(`^target: ${REL_612.replace(/[.+]/g, '\\$&')} \\(`,
        'm'));
      // kmod's insmod decompresses it and hands the image to init_module().
      assert.match(report.text, /^verdict: init_module returns 0: the module loads$/m);
      assert.match(report.text, /^kernel log:\n {2}\(nothing printed\)$/m);
    } finally {
      await client.stop();
      removeWorkspace(ws);
      removeWorkspace(outside);
    }
  });

  test('a kernel setting that cannot be read falls back to the bundled profile, said so',
    async () => {
      const ws = makeWorkspace({ 'hello.ko': { copy: path.join(HELLO_DIR, 'hello.ko') } });
      const missing = path.join(ws, 'no-such-kernel');
      const client = await LspClient.start({ folders: [ws], settings: { kernel: missing } });
      try {
        const r = await client.request<ModulesResult>('kmodsim/modules', { wait: true });
        assert.equal(r.modules[0].verdict, 'loads (OE)');
        const diags = await client.diagnosticsOf(r.modules[0].reportUri);
        const note = `kmodsim.kernel '${missing}': ${missing}: no such profile, headers ` +
          'directory or module tree; using the bundled profile instead';
        assert.deepEqual(diags.filter((d) => d.severity === 2).map((d) => d.message), [note]);

        // A kernel the request names itself is an error, not the fallback; the setting's own
        // value (what the client sends when the setting is picked) keeps the fallback.
        const other = path.join(ws, 'no-such-kernel-either');
        await assert.rejects(client.request('kmodsim/simulateInsmod',
          { file: path.join(ws, 'hello.ko'), kernel: other }), {
          code: -32602, message: "kmodsim/simulateInsmod: field 'kernel' cannot be used: " +
            `kmodsim.kernel '${other}': ${other}: no such profile, headers directory or ` +
            'module tree' });
        const setting = await client.request<{ verdict: string; report: string }>(
          'kmodsim/simulateInsmod', { file: path.join(ws, 'hello.ko'), kernel: missing });
        assert.equal(setting.verdict, 'loads (OE)');
        assert.ok(setting.report.includes(note), setting.report);
      } finally {
        await client.stop();
        removeWorkspace(ws);
      }
    });
});

test('malformed request params are an InvalidParams error naming the field', async () => {
  const ws = makeWorkspace({ 'hello.ko': { copy: path.join(HELLO_DIR, 'hello.ko') } });
  const client = await LspClient.start({ folders: [ws] });
  const file = path.join(ws, 'hello.ko');
  const refused = (method: string, params: unknown, message: string) =>
    assert.rejects(client.request(method, params), { code: -32602, message });
  try {
    await refused('kmodsim/simulateInsmod', { file, params: 42 },
      "kmodsim/simulateInsmod: field 'params' must be a string, not number 42");
    await refused('kmodsim/simulateInsmod', {},
      "kmodsim/simulateInsmod: field 'file' is missing");
    await refused('kmodsim/simulateInsmod', { file, lockdown: 'bogus' },
      "kmodsim/simulateInsmod: field 'lockdown' must be one of \"none\", \"integrity\", " +
      '"confidentiality", not "bogus"');
    await refused('kmodsim/simulateInsmod', { file, forceLoad: 'maybe' },
      "kmodsim/simulateInsmod: field 'forceLoad' must be one of \"profile\", \"y\", \"n\", " +
      'not "maybe"');
    await refused('kmodsim/report', {}, "kmodsim/report: field 'uri' is missing");
    await refused('kmodsim/moduleInfo', {}, "kmodsim/moduleInfo: field 'file' is missing");
    await refused('kmodsim/paramCompletions', { file, text: 'x', offset: 5 },
      "kmodsim/paramCompletions: field 'offset' 5 is past the end of 'text' (1 characters)");
    await refused('kmodsim/modules', { wait: 'yes' },
      "kmodsim/modules: field 'wait' must be a boolean, not \"yes\"");

    // Well-formed, the same requests are answered.
    const r = await client.request<{ verdict: string }>('kmodsim/simulateInsmod',
      { file, params: 'times=2', lockdown: 'none', forceLoad: 'n' });
    assert.equal(r.verdict, 'loads (OE)');
    // Under lockdown an unsigned module is refused, as the kernel does.
    const locked = await client.request<{ errnoName: string }>('kmodsim/simulateInsmod',
      { file, lockdown: 'integrity' });
    assert.equal(locked.errnoName, 'EPERM');
  } finally {
    await client.stop();
    removeWorkspace(ws);
  }
});

test('over node IPC, as the VS Code client starts it, the server answers the same', async () => {
  const ws = makeWorkspace({ 'hello.ko': { copy: path.join(HELLO_DIR, 'hello.ko') } });
  const client = await LspClient.start({ folders: [ws], transport: 'ipc' });
  try {
    const init = client.initializeResult as { serverInfo: { name: string };
      capabilities: { hoverProvider: boolean } };
    assert.equal(init.serverInfo.name, 'kmodsim');
    assert.equal(init.capabilities.hoverProvider, true);
    const r = await client.request<ModulesResult>('kmodsim/modules', { wait: true });
    assert.deepEqual(r.modules.map((m) => [m.name, m.verdict]), [['hello', 'loads (OE)']]);
    await client.diagnosticsOf(reportUriOf(path.join(ws, 'hello.ko')));

    // Select target kernel: the bundled profile (stored as ""), then the running kernel.
    const targets = await client.request<{ label: string; value: string }[]>(
      'kmodsim/targets', {});
    assert.deepEqual(targets.slice(0, 2).map((t) => [t.label, t.value]), [
      ['debian-6.1.0-57-amd64 (bundled profile)', ''], ['running', 'running']]);
  } finally {
    await client.stop();
    removeWorkspace(ws);
  }
});

describe('CONFIG_MODULE_FORCE_LOAD overridden', () => {
  // Debian's profile has CONFIG_MODULE_FORCE_LOAD=y, so --force-vermagic loads with taint F.
  // Without it, try_to_force_load() refuses: ENOEXEC, and nothing is printed, since the
  // signature line comes only after check_modinfo().
  test('--force-vermagic under y loads tainted F, under n fails with ENOEXEC', async () => {
    const ws = makeWorkspace({ 'hello.ko': { copy: path.join(HELLO_DIR, 'hello.ko') } });
    const client = await LspClient.start({ folders: [ws] });
    const file = path.join(ws, 'hello.ko');
    try {
      const forced = await client.request<{ ok: boolean; lines: string[] }>(
        'kmodsim/simulateInsmod', { file, ignoreVermagic: true, forceLoad: 'profile' });
      assert.equal(forced.ok, true);
      assert.ok(forced.lines.includes('<4>hello: bad vermagic: kernel tainted.'),
        forced.lines.join('\n'));

      const refused = await client.request<{ ok: boolean; errnoName: string; lines: string[];
        report: string }>('kmodsim/simulateInsmod', { file, ignoreVermagic: true,
        forceLoad: 'n' });
      assert.equal(refused.ok, false);
      assert.equal(refused.errnoName, 'ENOEXEC');
      assert.deepEqual(refused.lines, []);
      assert.match(refused.report, /CONFIG_MODULE_FORCE_LOAD=n/);
    } finally {
      await client.stop();
      removeWorkspace(ws);
    }
  });
});

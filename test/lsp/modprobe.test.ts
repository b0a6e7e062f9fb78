// modprobe.d files through the bundled server: kmod's own complaints (compared with what
// kmod's modprobe prints for the same file), each `options` argument checked with the
// kernel's parse_args messages, and completions and hovers whose types and descriptions are
// those kmod's modinfo prints for the module.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CompletionItem, Diagnostic, Hover } from 'vscode-languageserver-protocol';
import { REL_61, testModule } from '../support/corpus.js';
import { fileUri, LspClient } from './client.js';
import {
  HELLO_DIR, kmodReading, makeWorkspace, modinfoDescriptions, modinfoParmTypes, moduleTree,
  removeWorkspace, writeFile,
} from './fixtures.js';

const HELLO = path.join(HELLO_DIR, 'hello.ko');
const PARAMS = testModule(REL_61, 'kmsim_params');

// The text a diagnostic's range covers, on a one-line range.
function covered(text: string, d: Diagnostic): string {
  const line = text.split('\n')[d.range.start.line];
  return line.slice(d.range.start.character, d.range.end.character);
}

function hoverText(h: Hover | null): string {
  assert.ok(h, 'no hover');
  const c = h.contents as { value: string };
  return c.value;
}

async function complete(client: LspClient, file: string, line: number, character: number) {
  const r = await client.request<CompletionItem[] | { items: CompletionItem[] }>(
    'textDocument/completion', { textDocument: { uri: fileUri(file) },
      position: { line, character } });
  return Array.isArray(r) ? r : r.items;
}

describe('modprobe.d in a workspace with hello.ko and kmsim_params.ko', () => {
  let ws: string;
  let client: LspClient;

  before(async () => {
    ws = makeWorkspace({
      'hello/hello.ko': { copy: HELLO },
      'params/kmsim_params.ko': { copy: PARAMS },
    });
    client = await LspClient.start({ folders: [ws] });
    await client.request('kmodsim/modules', { wait: true });
  });

  after(async () => {
    await client.stop();
    removeWorkspace(ws);
  });

  test('bad lines are reported as kmod reports them, and the options kmod stores reach the load',
    async () => {
      const conf = [
        'options',
        'foo bar',
        '  # an indented comment is a command to kmod',
        'options hello times=2 \\',
        '\tdelays=1,2',
        'alias only-pattern',
        'blacklist',
        'install foo',
        'softdep a',
        'remove b',
        'include /etc/other.conf',
        '\\# an escaped hash starts a comment after all',
        'options\thello\tgreeting=hi',
        'softdep hello pre: kmsim_params post: other',
        'alias pci:v*d*sv*sd*bc*sc*i* hello',
        '',
      ].join('\n');
      writeFile(ws, 'etc/modprobe.d/hello.conf', conf);
      const file = path.join(ws, 'etc/modprobe.d/hello.conf');
      const diags = await client.diagnosticsOf(fileUri(file), (d) => d.length > 0);
      const kmod = kmodReading(file);
      assert.equal(kmod.errors.length, 9, kmod.errors.join('\n'));
      assert.deepEqual(diags.filter((d) => d.source === 'kmod').map((d) => d.message),
        kmod.errors);
      assert.deepEqual(diags.filter((d) => d.source !== 'kmod'), []);

      // kmod joins every options line of a module with a space, in file order.
      const report = await client.request<{ text: string }>('kmodsim/report',
        { uri: `kmodsim-report:${encodeURI(path.join(ws, 'hello/hello.ko'))}.report` });
      const params = /^parameters: (.*)$/m.exec(report.text)![1];
      assert.equal(params, kmod.options.get('hello'));
      // The continuation keeps the space before the backslash and the tab after it.
      assert.equal(params, 'times=2  delays=1,2 greeting=hi');
    });

  test('each options argument gets the kernel\'s own line, on that argument', async () => {
    const file = path.join(ws, 'draft/modprobe.d/params.conf');
    const text = [
      'options hello times=abc delays=1,2,3,4 greeting',
      'options kmsim_params p_string=123456789 p_invbool p_nosuch=1 p_bool',
      'options kmsim_params p_byte=0x100 p_charp=<name> p_int=X',
      'options kmsim_params p_short=-1 # the default is fine, p_ushort=9',
      'options kmsim_params nosuch=1 p_int=5 # inline comment p_int=<n>',
      'options kmsim_params p_bool=X',
      'options no_such_module foo=1',
      'options vfio-pci-core foo=1',
      '',
    ].join('\n');
    await client.open(file, 'modprobe', text);
    const diags = await client.diagnosticsOf(fileUri(file), (d) => d.length > 0);
    const got = diags.map((d) => [d.range.start.line, covered(text, d), d.severity,
      String(d.message)]);
    const EINVAL = 'the load fails: EINVAL (Invalid argument)';
    assert.deepEqual(got, [
      [0, 'times=abc', 1, `hello: \`abc' invalid for parameter \`times'\n${EINVAL}`],
      [0, 'delays=1,2,3,4', 1, 'delays: can only take 3 arguments\n' +
        `hello: \`1' invalid for parameter \`delays'\n${EINVAL}`],
      [0, 'greeting', 1, `hello: \`' invalid for parameter \`greeting'\n${EINVAL}`],
      [1, 'p_string=123456789', 1, 'p_string: string doesn\'t fit in 7 chars.\n' +
        'kmsim_params: `123456789\' too large for parameter `p_string\'\n' +
        'the load fails: ENOSPC (No space left on device)'],
      [1, 'p_invbool', 1, `kmsim_params: \`' invalid for parameter \`p_invbool'\n${EINVAL}\n` +
        'p_invbool is an invbool: it needs a value (p_invbool=Y or =N), a bare name is refused'],
      [1, 'p_nosuch=1', 2, "kmsim_params: unknown parameter 'p_nosuch' ignored"],
      [2, 'p_byte=0x100', 1, "kmsim_params: `0x100' invalid for parameter `p_byte'\n" +
        'the load fails: ERANGE (Numerical result out of range)'],
      [2, 'p_charp=<name>', 2, "'<name>' looks like a placeholder from documentation; the " +
        'kernel takes it literally (p_charp is charp)'],
      [2, 'p_int=X', 1, `kmsim_params: \`X' invalid for parameter \`p_int'\n${EINVAL}\n` +
        "'X' looks like a placeholder from documentation; the kernel takes it literally " +
        '(p_int is int)'],
      // A comment is one warning; inside it only what fails the load is said again.
      [3, '# the default is fine, p_ushort=9', 2, 'kmod does not strip comments from an ' +
        "options line: the kernel receives '#', 'the', 'default', 'is', 'fine,', " +
        "'p_ushort=9' as parameters"],
      [4, '# inline comment p_int=<n>', 2, 'kmod does not strip comments from an options ' +
        "line: the kernel receives '#', 'inline', 'comment', 'p_int=<n>' as parameters"],
      [4, 'nosuch=1', 2, "kmsim_params: unknown parameter 'nosuch' ignored"],
      [4, 'p_int=<n>', 1, `kmsim_params: \`<n>' invalid for parameter \`p_int'\n${EINVAL}\n` +
        "'<n>' looks like a placeholder from documentation; the kernel takes it literally " +
        '(p_int is int)'],
      [5, 'p_bool=X', 1, `kmsim_params: \`X' invalid for parameter \`p_bool'\n${EINVAL}\n` +
        "'X' looks like a placeholder from documentation; the kernel takes it literally " +
        '(p_bool is bool)'],
      [6, 'no_such_module', 3, "no module 'no_such_module' in the workspace or the target " +
        "kernel's tree: its parameters are not checked"],
      [7, 'vfio-pci-core', 3, "module 'vfio_pci_core' of the target kernel: the profile has " +
        'no module files, so its parameters are not checked (set kmodsim.kernel to its ' +
        '/lib/modules/<release>)'],
    ]);
  });

  test('completions offer commands, module names, parameters with modinfo\'s types, values',
    async () => {
      const file = path.join(ws, 'draft/modprobe.d/complete.conf');
      const text = 'opt\noptions h\noptions hello \noptions hello times=\n' +
        'options kmsim_params p_bool=\nsoftdep hello pre: \n';
      await client.open(file, 'modprobe', text);

      const commands = await complete(client, file, 0, 3);
      assert.deepEqual(commands.map((c) => c.label),
        ['options', 'install', 'remove', 'blacklist', 'softdep', 'alias']);

      // The workspace's modules first, then those the bundled profile's Module.symvers names.
      const modules = await complete(client, file, 1, 9);
      assert.deepEqual(modules.slice(0, 2).map((c) => c.label).sort(), ['hello', 'kmsim_params']);
      assert.equal(modules.find((c) => c.label === 'hello')!.detail,
        'workspace module: loads (OE)');
      const core = modules.find((c) => c.label === 'vfio_pci_core')!;
      assert.equal(core.detail, 'target kernel module');

      const params = await complete(client, file, 2, 14);
      const types = modinfoParmTypes(HELLO);
      assert.deepEqual(params.map((c) => [c.label, c.detail]), [
        ['times=', `${types.get('times')}, default 1`],
        ['greeting=', `${types.get('greeting')}, default hello`],
        ['delays=', `${types.get('delays')}, default 5,10,15`],
      ]);
      assert.equal(types.get('delays'), 'array of int');
      const doc = String(params.find((c) => c.label === 'delays=')!.documentation);
      assert.equal(doc.split('\n')[0], modinfoDescriptions(HELLO).get('delays'));
      assert.ok(doc.split('\n').includes(
        'modinfo: delays  int[3]  perm 0444  default: 5,10,15  (count 3 of 3)'), doc);

      const values = await complete(client, file, 3, 20);
      assert.deepEqual(values.map((c) => c.label), ['1']);
      const bools = await complete(client, file, 4, 28);
      assert.deepEqual(bools.map((c) => c.label), ['Y', 'N', '1', '0']);
      const softdep = await complete(client, file, 5, 19);
      assert.deepEqual(softdep.map((c) => c.label).slice(0, 2), ['pre:', 'post:']);
    });

  test('each completion replaces the token kmod and the kernel see, up to the cursor',
    async () => {
      const file = path.join(ws, 'draft/modprobe.d/edits.conf');
      const lines = ['options kmsim-pa', 'options kmsim_params p-in',
        'options kmsim_params p_flags=y,',
        'options hello times=2 \\', '\tdelays=1,x', 'options kmsim_params p_ints=7,8',
        'opt', ''];
      const text = lines.join('\n');
      await client.open(file, 'modprobe', text);
      // [label, start line, start char, end line, end char, new text] of the items.
      const edits = async (line: number, character: number) =>
        (await complete(client, file, line, character)).map((c) => {
          const e = c.textEdit as { range: Diagnostic['range']; newText: string };
          assert.ok(e, `no textEdit on ${c.label}`);
          return [c.label, e.range.start.line, e.range.start.character, e.range.end.line,
            e.range.end.character, e.newText];
        });

      // The module name with its `-`: the whole word is replaced by kmod's spelling.
      const modules = await edits(0, 16);
      assert.deepEqual(modules.find((m) => m[0] === 'kmsim_params'),
        ['kmsim_params', 0, 8, 0, 16, 'kmsim_params']);
      assert.deepEqual(await edits(6, 3), ['options', 'install', 'remove', 'blacklist',
        'softdep', 'alias'].map((c) => [c, 6, 0, 6, 3, c]));

      // A parameter token runs from the blank; `-` spells `_` to the kernel.
      const params = await edits(1, 25);
      assert.deepEqual(params.find((p) => p[0] === 'p_int='), ['p_int=', 1, 21, 1, 25, 'p_int=']);

      // After `y,` only what one bool element may be, from the comma.
      assert.deepEqual(await edits(2, 31), [['Y', 2, 31, 2, 31, 'Y'], ['N', 2, 31, 2, 31, 'N'],
        ['1', 2, 31, 2, 31, '1'], ['0', 2, 31, 2, 31, '0']]);

      // On a continuation line, before `,x`: one element (the default's first), from the `=`.
      assert.deepEqual(await edits(4, 9), [['5', 4, 8, 4, 9, '5']]);

      // The second element of an int array: the default's second, replacing the typed `8`.
      assert.deepEqual(await edits(5, 31), [['22', 5, 30, 5, 31, '22']]);
      // A whole value: the whole default.
      assert.deepEqual(await edits(3, 20), [['1', 3, 20, 3, 20, '1']]);
    });

  test('a hover on a parameter shows type, permissions, description, default and bounds',
    async () => {
      const file = path.join(ws, 'draft/modprobe.d/hover.conf');
      const text = 'options hello delays=1,2\noptions kmsim_params p_string=x p_unsafe=1\n';
      await client.open(file, 'modprobe', text);
      const hover = (line: number, character: number) => client.request<Hover | null>(
        'textDocument/hover', { textDocument: { uri: fileUri(file) },
          position: { line, character } });

      const delays = hoverText(await hover(0, 16));
      const desc = modinfoDescriptions(HELLO).get('delays')!;
      assert.deepEqual(delays.split('\n').slice(0, 8), [
        '**delays** (array of int) of module `hello`', '', desc, '',
        '- permissions: 0444', '- default 5,10,15',
        '- array bounds: 1 to 3 elements (3 by default)',
        '',
      ]);
      const str = hoverText(await hover(1, 25));
      assert.match(str, /^\*\*p_string\*\* \(string\) of module `kmsim_params`$/m);
      assert.match(str, /^- at most 7 characters$/m);
      assert.match(str, /^- default abc1234$/m);
      const unsafe = hoverText(await hover(1, 36));
      assert.match(unsafe, /^- unsafe: setting it taints the kernel \(U\)$/m);
      const module = hoverText(await hover(0, 10));
      assert.match(module, /^\*\*hello\*\* \(workspace module\)$/m);
      assert.match(module, /^kmodsim example module with int, charp and int-array parameters$/m);
      // The parameters in the order kmod's modinfo prints them.
      const parms = spawnSync('modinfo', ['-F', 'parm', HELLO], { encoding: 'utf8' }).stdout
        .split('\n').filter(Boolean).map((l) => l.split(':')[0]);
      assert.deepEqual(parms, ['times', 'greeting', 'delays']);
      assert.match(module, new RegExp(`^- parameters: ${parms.join(', ')}$`, 'm'));

      // Past the end of a line, nothing; at its very end, the last word still.
      assert.equal(await hover(0, 999), null);
      assert.equal(await hover(0, 25), null);
      assert.match(hoverText(await hover(0, 24)), /^\*\*delays\*\* /);
    });

  test('the Simulate insmod box gets the same completions', async () => {
    const items = await client.request<{ label: string; detail: string }[]>(
      'kmodsim/paramCompletions',
      { file: path.join(ws, 'hello/hello.ko'), text: 'times=2 d', offset: 9 });
    assert.deepEqual(items.map((i) => i.label), ['greeting=', 'delays=']);
    const info = await client.request<{ text: string }>('kmodsim/moduleInfo',
      { file: path.join(ws, 'hello/hello.ko') });
    // kmod's part is what kmod's modinfo prints for the same file.
    const kmod = spawnSync('modinfo', [path.join(ws, 'hello/hello.ko')], { encoding: 'utf8' });
    assert.equal(info.text.slice(0, info.text.indexOf('kmodsim:\n')), kmod.stdout);
  });
});

describe('the target kernel\'s module tree', () => {
  let outside: string;
  let tree: string;

  before(() => {
    outside = makeWorkspace({});
    tree = moduleTree(outside, REL_61);
  });

  after(() => removeWorkspace(outside));

  test('tree modules are completed and their options checked', async () => {
    const ws = makeWorkspace({});
    const client = await LspClient.start({ folders: [ws], settings: { kernel: tree } });
    try {
      const file = path.join(ws, 'modprobe.d/vfio.conf');
      const text = 'options vfio_pci disable_vga=maybe nointxmask\noptions vfio\n';
      await client.open(file, 'modprobe', text);
      const diags = await client.diagnosticsOf(fileUri(file), (d) => d.length > 0);
      assert.deepEqual(diags.map((d) => [covered(text, d), String(d.message).split('\n')[0]]),
        [['disable_vga=maybe', "vfio_pci: `maybe' invalid for parameter `disable_vga'"],
          ['options vfio', "/" + path.relative('/', file) + " line 2: ignoring bad line " +
            "starting with 'options'"]]);
      const names = (await complete(client, file, 1, 12)).map((c) => c.label);
      assert.ok(names.includes('vfio_pci') && names.includes('vfio_iommu_type1'),
        names.slice(0, 20).join(' '));
      assert.ok(names.length > 4000, `${names.length} module names`);
    } finally {
      await client.stop();
      removeWorkspace(ws);
    }
  });

  test('in an untrusted workspace a kernel path outside it is ignored', async () => {
    const ws = makeWorkspace({ 'hello.ko': { copy: HELLO } });
    const client = await LspClient.start({ folders: [ws], settings: { kernel: tree },
      trusted: false });
    try {
      const r = await client.request<{ modules: { reportUri: string }[] }>('kmodsim/modules',
        { wait: true });
      const report = await client.request<{ text: string }>('kmodsim/report',
        { uri: r.modules[0].reportUri });
      assert.match(report.text, /^target: 6\.1\.0-57-amd64 \(bundled profile\)/m);
      assert.ok(report.text.includes(`note: setting ignored: kmodsim.kernel '${tree}' is ` +
        'outside the workspace and the workspace is not trusted\n'), report.text);

      // Trust granted: the same setting now counts.
      await client.notify('kmodsim/trustChanged', { trusted: true });
      await client.until('the tree as target', () => client.logs.some((l) =>
        l.startsWith(`target kernel: ${REL_61} (`) && !l.includes('bundled')));
    } finally {
      await client.stop();
      removeWorkspace(ws);
    }
  });

  test('requests are answered while a scan of hundreds of modules runs', async () => {
    const ws = makeWorkspace({ 'hello.ko': { copy: HELLO } });
    const client = await LspClient.start({ folders: [ws],
      settings: { buildDirs: [path.join(tree, 'kernel', 'drivers', 'net')] } });
    try {
      const file = path.join(ws, 'modprobe.d/x.conf');
      await client.open(file, 'modprobe', 'options hello \n');
      // Wait until the scan has simulated a few of them, then ask.
      await client.until('the scan under way', () =>
        client.logs.filter((l) => l.includes('after the file settled')).length >= 3);
      const items = await complete(client, file, 0, 14);
      const r = await client.request<{ scanning: boolean;
        modules: { file: string; reportUri: string; verdict: string }[] }>(
        'kmodsim/modules', {});
      assert.equal(r.scanning, true);
      assert.ok(r.modules.length > 400, `${r.modules.length} modules`);
      assert.deepEqual(items.map((i) => i.label), ['times=', 'greeting=', 'delays=']);

      // A report the scan has not reached yet is made on demand.
      const waiting = r.modules.filter((m) => m.verdict === 'not simulated yet').pop()!;
      const report = await client.request<{ text: string }>('kmodsim/report',
        { uri: waiting.reportUri });
      assert.equal(report.text.split('\n')[0], `kmodsim report: ${waiting.file}`);
      assert.match(report.text, /^verdict: finit_module returns /m);
    } finally {
      await client.stop();
      removeWorkspace(ws);
    }
  });
});

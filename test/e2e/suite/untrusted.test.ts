// An untrusted workspace whose .vscode/settings.json points kmodsim.kernel at a kernel tree
// outside it (the Debian 6.12 tree). VS Code drops the restricted setting's workspace value
// and the server is told the workspace is not trusted, so the module built for 6.12 is still
// loaded into the bundled 6.1 profile, and refused there.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { KmodsimApi } from '../../../client/src/extension.js';
import type { SimulateInsmodResult } from '../../../server/src/lsp/protocol.js';

const ws = vscode.workspace.workspaceFolders![0].uri.fsPath;
const PARAMS_612 = path.join(ws, 'params-6.12', 'kmsim_params.ko');

describe('kmodsim in an untrusted workspace', () => {
  before(async () => {
    const ext = vscode.extensions.getExtension<KmodsimApi>('kmodsim.kmodsim');
    assert.ok(ext, 'the extension under development is loaded');
    await ext.activate();
  });

  it('is not trusted, and the workspace\'s kmodsim.kernel is not in effect', () => {
    assert.equal(vscode.workspace.isTrusted, false);
    const file = path.join(ws, '.vscode', 'settings.json');
    const written = JSON.parse(fs.readFileSync(file, 'utf8'))['kmodsim.kernel'];
    assert.match(written, /\/lib\/modules\/6\.12\.107\+deb12-amd64$/);
    // package.json lists kmodsim.kernel in restrictedConfigurations.
    assert.equal(vscode.workspace.getConfiguration('kmodsim').get('kernel'), '');
  });

  it('loads into the bundled 6.1 profile, which refuses the 6.12 module', async () => {
    const r = await vscode.commands.executeCommand<SimulateInsmodResult>(
      'kmodsim.simulateInsmod', { file: PARAMS_612, kernel: null, params: '', flags: {} });
    assert.equal(r.errnoName, 'ENOEXEC');
    assert.deepEqual(r.lines,
      ['<4>kmsim_params: disagrees about version of symbol module_layout']);
    assert.match(r.report, /^target: 6\.1\.0-57-amd64 \(bundled profile\)/m);
  });
});

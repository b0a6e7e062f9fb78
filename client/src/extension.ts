// The VS Code client: starts the language server over IPC and offers "Simulate insmod" on
// the active .ko or one picked from the workspace. Every answer comes from the server.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type ServerOptions } from 'vscode-languageclient/node';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext) {
  const module = context.asAbsolutePath(path.join('dist', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--inspect=6009'] } },
  };
  client = new LanguageClient('kmodsim', 'kmodsim', serverOptions, {
    documentSelector: [{ scheme: 'file', pattern: '**/*.ko' }],
  });
  await client.start();

  const output = vscode.window.createOutputChannel('kmodsim report');
  context.subscriptions.push(output, vscode.commands.registerCommand('kmodsim.simulateInsmod',
    async (uri?: vscode.Uri) => {
      const target = uri ?? (await pickModule());
      if (!target) return;
      const params = await vscode.window.showInputBox({ prompt: 'Module parameters' });
      const kernel = vscode.workspace.getConfiguration('kmodsim').get<string>('kernel');
      const r = await client!.sendRequest<{ report: string }>('kmodsim/simulateInsmod',
        { file: target.fsPath, params: params ?? '', kernel: kernel || undefined });
      output.clear();
      output.append(r.report);
      output.show(true);
    }));
}

async function pickModule(): Promise<vscode.Uri | undefined> {
  const found = await vscode.workspace.findFiles('**/*.{ko,ko.xz,ko.gz,ko.zst}', undefined, 200);
  const pick = await vscode.window.showQuickPick(found.map((u) => ({ label:
    vscode.workspace.asRelativePath(u), uri: u })), { placeHolder: 'Module to load' });
  return pick?.uri;
}

export async function deactivate() {
  await client?.stop();
}

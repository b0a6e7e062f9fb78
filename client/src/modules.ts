// Which module a command is about: the one in the active editor (a .ko tab, or a report
// document, which names its .ko), else one the user picks from the workspace.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { REPORT_SCHEME } from '../../server/src/lsp/protocol.js';

export const MODULE_GLOB = '**/*.{ko,ko.xz,ko.gz,ko.zst}';
const MODULE_NAME = /\.ko(\.(xz|gz|zst))?$/;

export function isModulePath(p: string): boolean {
  return MODULE_NAME.test(p);
}

// The .ko the active tab shows. A .ko is binary, so VS Code opens it in a binary or custom
// editor and activeTextEditor is undefined: ask the tab instead.
export function activeModule(): string | undefined {
  const editor = vscode.window.activeTextEditor;
  if (editor) return moduleOfUri(editor.document.uri);
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  const uri = (input as { uri?: unknown } | undefined)?.uri;
  return uri instanceof vscode.Uri ? moduleOfUri(uri) : undefined;
}

export function moduleOfUri(uri: vscode.Uri): string | undefined {
  // uri.path is already decoded, so strip the suffix rather than decode it a second time.
  if (uri.scheme === REPORT_SCHEME) return uri.path.replace(/\.report$/, '');
  if (uri.scheme === 'file' && isModulePath(uri.fsPath)) return uri.fsPath;
  return undefined;
}

interface ModuleItem extends vscode.QuickPickItem { file: string }

// The active module first, then the workspace's; undefined when the user cancels.
export async function pickModule(title: string): Promise<string | undefined> {
  const active = activeModule();
  const found = await vscode.workspace.findFiles(MODULE_GLOB, '**/node_modules/**', 500);
  const items: ModuleItem[] = [];
  if (active) {
    items.push({ label: path.basename(active), description: 'active editor',
      detail: active, file: active });
  }
  for (const uri of found.sort((a, b) => a.fsPath.localeCompare(b.fsPath))) {
    if (uri.fsPath === active) continue;
    items.push({ label: path.basename(uri.fsPath),
      description: vscode.workspace.asRelativePath(uri, true), file: uri.fsPath });
  }
  if (items.length === 0) {
    void vscode.window.showWarningMessage('kmodsim: no .ko file in the workspace; build one ' +
      'or open one first.');
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(items, { title,
    placeHolder: 'Module to load', matchOnDescription: true });
  return pick?.file;
}

// The target kernel: the kmodsim.kernel setting, the kernels the server offers for it
// (kmodsim/targets), and a browse entry for any other profile or kernel directory.

import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { TARGETS, type TargetItem } from '../../server/src/lsp/protocol.js';

export function configuredKernel(): string {
  return vscode.workspace.getConfiguration('kmodsim').get<string>('kernel') ?? '';
}

// How a kmodsim.kernel value reads in a picker or the status bar.
export function describeKernel(value: string): string {
  return value === '' ? 'bundled Debian 6.1.0-57-amd64 profile' : value;
}

interface KernelItem extends vscode.QuickPickItem { value?: string; browse?: boolean }

async function serverTargets(client: LanguageClient): Promise<TargetItem[]> {
  try {
    return await client.sendRequest<TargetItem[]>(TARGETS, {});
  } catch (e) {
    // An older server has no target list; the setting and "browse" still work.
    client.warn(`kmodsim/targets: ${(e as Error).message}`, undefined, false);
    return [];
  }
}

// Asks for a kernel; `current` is offered first. Undefined when the user cancels.
export async function pickKernel(client: LanguageClient, title: string,
  current: string): Promise<string | undefined> {
  const offered = await serverTargets(client);
  const items: KernelItem[] = [{ label: describeKernel(current),
    description: 'current setting', value: current }];
  for (const t of offered) {
    if (t.value === current) continue;
    items.push({ label: t.label, description: t.description, value: t.value });
  }
  if (current !== '' && !offered.some((t) => t.value === '')) {
    items.push({ label: describeKernel(''), description: 'built in', value: '' });
  }
  items.push({ label: '$(folder-opened) Other kernel…', browse: true,
    description: 'a profile .json, a headers/build directory or /lib/modules/<release>' });

  const pick = await vscode.window.showQuickPick(items, { title,
    placeHolder: 'Target kernel', matchOnDescription: true });
  if (!pick) return undefined;
  if (!pick.browse) return pick.value;
  return browseKernel();
}

async function browseKernel(): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({
    title: 'Kernel profile (.json) or kernel directory',
    canSelectFiles: true, canSelectFolders: true, canSelectMany: false,
    defaultUri: vscode.Uri.file('/lib/modules'),
  });
  return picked?.[0]?.fsPath;
}

// *Select target kernel*: stores the choice in kmodsim.kernel (the workspace's setting when a
// folder is open), which the server re-reads. Returns the stored value.
export async function selectTargetCommand(client: LanguageClient,
  value?: string): Promise<string | undefined> {
  const chosen = value ?? await pickKernel(client, 'kmodsim: Select target kernel',
    configuredKernel());
  if (chosen === undefined) return undefined;
  const where = vscode.workspace.workspaceFolders?.length
    ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await vscode.workspace.getConfiguration('kmodsim').update('kernel', chosen, where);
  return chosen;
}

// The status bar item: the target kernel and the verdict for the active module, from the
// server's kmodsim/status notifications. A click selects the target kernel.

import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { STATUS, type StatusParams } from '../../server/src/lsp/protocol.js';
import { activeModule } from './modules.js';
import { configuredKernel, describeKernel } from './targets.js';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('kmodsim.status',
    vscode.StatusBarAlignment.Left, 50);
  private readonly byFile = new Map<string, StatusParams>();
  private target = '';              // the release the server last reported
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(client: LanguageClient) {
    this.item.name = 'kmodsim';
    this.item.command = 'kmodsim.selectTarget';
    client.onNotification(STATUS, (p: StatusParams) => this.record(p));
    this.subscriptions.push(
      vscode.window.onDidChangeActiveTextEditor(() => this.render()),
      vscode.window.tabGroups.onDidChangeTabs(() => this.render()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration('kmodsim.kernel')) return;
        // The old verdicts were for the old target; the server sends new ones.
        this.byFile.clear();
        this.target = '';
        this.render();
      }));
    this.render();
    this.item.show();
  }

  record(p: StatusParams): void {
    const known = this.byFile.get(p.file);
    this.byFile.set(p.file, { ...p, target: p.target || known?.target || this.target });
    if (p.target) this.target = p.target;
    this.render();
  }

  // The module the item speaks for: the active one, else the only one known.
  private current(): StatusParams | undefined {
    const active = activeModule();
    if (active) return this.byFile.get(active);
    return this.byFile.size === 1 ? [...this.byFile.values()][0] : undefined;
  }

  private render(): void {
    const s = this.current();
    const target = this.target || describeKernel(configuredKernel());
    const tip = new vscode.MarkdownString(`**kmodsim** target: \`${target}\`\n\n`);
    if (!s) {
      this.item.text = `$(server-environment) ${target}`;
      tip.appendMarkdown('No module simulated for the active editor.\n\n');
    } else {
      const name = path.basename(s.file).replace(/\.ko(\.\w+)?$/, '');
      this.item.text = `$(server-environment) ${target} $(${s.ok ? 'check' : 'error'}) ` +
        `${name}: ${s.verdict}`;
      tip.appendMarkdown(`\`${s.file}\`: ${s.verdict}\n\n`);
    }
    tip.appendMarkdown('Click to select the target kernel.');
    this.item.tooltip = tip;
    this.item.backgroundColor = s && !s.ok
      ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }

  // What the item shows, for the extension's API (tests read it there).
  get text(): string {
    return this.item.text;
  }

  dispose(): void {
    for (const d of this.subscriptions) d.dispose();
    this.item.dispose();
  }
}

// The read-only report documents (`kmodsim-report:` URIs) and the modinfo documents. The
// server renders both; this provider only fetches the text and tells VS Code when it changes.

import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import {
  MODULE_INFO, REPORT, REPORT_CHANGED, REPORT_LANGUAGE, REPORT_SCHEME, reportUri,
  type ModuleInfoParams, type ModuleInfoResult, type ReportChangedParams, type ReportResult,
} from '../../server/src/lsp/protocol.js';

export const MODINFO_SCHEME = 'kmodsim-modinfo';

export class ReportProvider implements vscode.TextDocumentContentProvider {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  // The text of the last *Simulate insmod* per report, which carries that command's
  // parameters and flags; the server's kmodsim/report answers for the plain load otherwise.
  private readonly simulated = new Map<string, string>();

  constructor(private readonly client: LanguageClient) {
    client.onNotification(REPORT_CHANGED, (p: ReportChangedParams) => {
      const uri = vscode.Uri.parse(p.uri);
      this.simulated.delete(uri.toString());
      this.changed.fire(uri);
    });
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const mine = this.simulated.get(uri.toString());
    if (mine !== undefined) return mine;

    // The server's own spelling of the URI (protocol.reportUri), not VS Code's re-encoding.
    const koPath = uri.path.replace(/\.report$/, '');
    try {
      const r = await this.client.sendRequest<ReportResult>(REPORT, { uri: reportUri(koPath) });
      return r.text;
    } catch (e) {
      return `kmodsim: no report for ${koPath}: ${(e as Error).message}\n` +
        'Run "kmodsim: Simulate insmod" on the module.\n';
    }
  }

  // Records a simulation's report and shows it; returns the shown document.
  async show(uriText: string, text: string): Promise<vscode.TextDocument> {
    const uri = vscode.Uri.parse(uriText);
    this.simulated.set(uri.toString(), text);
    this.changed.fire(uri);
    return openReadOnly(uri, REPORT_LANGUAGE);
  }

  dispose(): void {
    this.changed.dispose();
  }
}

// modinfo output per module, kept from the last *Show module info*; a document restored
// from an earlier session asks the server again.
export class ModinfoProvider implements vscode.TextDocumentContentProvider {
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly client: LanguageClient) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const known = this.texts.get(uri.toString());
    if (known !== undefined) return known;
    const file = uri.path.replace(/\.modinfo$/, '');
    try {
      const p: ModuleInfoParams = { file };
      return (await this.client.sendRequest<ModuleInfoResult>(MODULE_INFO, p)).text;
    } catch (e) {
      return `kmodsim: no module info for ${file}: ${(e as Error).message}\n`;
    }
  }

  async show(koPath: string, text: string): Promise<vscode.TextDocument> {
    const uri = vscode.Uri.from({ scheme: MODINFO_SCHEME, path: `${koPath}.modinfo` });
    this.texts.set(uri.toString(), text);
    this.changed.fire(uri);
    return openReadOnly(uri, 'plaintext');
  }

  dispose(): void {
    this.changed.dispose();
  }
}

async function openReadOnly(uri: vscode.Uri, language: string): Promise<vscode.TextDocument> {
  let doc = await vscode.workspace.openTextDocument(uri);
  if (doc.languageId !== language) {
    doc = await vscode.languages.setTextDocumentLanguage(doc, language);
  }
  await vscode.window.showTextDocument(doc, { preview: false });
  return doc;
}

export { REPORT_SCHEME };

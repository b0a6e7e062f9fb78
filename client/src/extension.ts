// The VS Code client, kept thin: it starts the kmodsim language server over IPC, shows what
// the server renders (report documents, modinfo, diagnostics, the status bar verdict) and asks
// the user the questions of the three commands. Every answer about a module comes from the
// server; this side never looks inside a .ko.

import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  CloseAction, ErrorAction, LanguageClient, TransportKind, type ErrorHandler,
  type LanguageClientOptions, type ServerOptions,
} from 'vscode-languageclient/node';
import {
  MODULE_INFO, MODPROBE_LANGUAGE, REPORT_SCHEME, SETTINGS_SECTION, TRUST_CHANGED,
  type InitializationOptions, type ModuleInfoResult, type TrustChangedParams,
} from '../../server/src/lsp/protocol.js';
import { MODULE_GLOB, pickModule } from './modules.js';
import { MODINFO_SCHEME, ModinfoProvider, ReportProvider } from './reports.js';
import { ServerRestarts } from './restarts.js';
import { simulateInsmodCommand, type SimulateArgs } from './simulateInsmod.js';
import { StatusBar } from './statusBar.js';
import { selectTargetCommand } from './targets.js';

// What the extension exports (vscode.extensions.getExtension(...).exports): the in-editor
// tests read the client and the status bar text through it.
export interface KmodsimApi {
  client: LanguageClient;
  statusText(): string;
  // How many times the server died and what the user was told the last time.
  restarts: ServerRestarts;
  lastRestartMessage(): string | undefined;
}

let client: LanguageClient | undefined;
const restarts = new ServerRestarts();
let lastRestartMessage: string | undefined;

// The server's process died: restarted (unless it keeps dying), and the user is told either
// way, with the count. A connection error alone is retried a few times first, as by default.
const errorHandler: ErrorHandler = {
  error: (_error, _message, count) => ({
    action: count !== undefined && count <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown }),
  closed: () => {
    const d = restarts.closed(Date.now());
    lastRestartMessage = d.message;
    void vscode.window.showWarningMessage(d.message);
    return { action: d.restart ? CloseAction.Restart : CloseAction.DoNotRestart,
      message: d.message, handled: true };
  },
};

function createClient(context: vscode.ExtensionContext): LanguageClient {
  const module = context.asAbsolutePath(path.join('dist', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc,
      options: { execArgv: ['--nolazy', '--inspect=6009'] } },
  };
  const initializationOptions: InitializationOptions = { trusted: vscode.workspace.isTrusted };
  const watch = (glob: string) => vscode.workspace.createFileSystemWatcher(glob);
  const clientOptions: LanguageClientOptions = {
    // Only modprobe.d files are edited as text; modules, sources and Kbuild files reach the
    // server as file events, which it reads from disk.
    documentSelector: [{ scheme: 'file', language: MODPROBE_LANGUAGE }],
    initializationOptions,
    errorHandler,
    synchronize: {
      configurationSection: SETTINGS_SECTION,
      fileEvents: [watch(MODULE_GLOB), watch('**/modprobe.d/*.conf'), watch('**/modprobe.conf'),
        watch('**/{Kbuild,Makefile}'), watch('**/*.{c,h}')],
    },
  };
  return new LanguageClient('kmodsim', 'kmodsim', serverOptions, clientOptions);
}

// A request the server refused or could not answer: say which command and why where the user
// looks, and still fail the command for its caller.
async function reportFailure<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    void vscode.window.showErrorMessage(`kmodsim: ${what}: ${(e as Error).message}`);
    throw e;
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<KmodsimApi> {
  const lc = createClient(context);
  client = lc;
  const reports = new ReportProvider(lc);
  const modinfo = new ModinfoProvider(lc);
  const status = new StatusBar(lc);
  context.subscriptions.push(reports, modinfo, status,
    vscode.workspace.registerTextDocumentContentProvider(REPORT_SCHEME, reports),
    vscode.workspace.registerTextDocumentContentProvider(MODINFO_SCHEME, modinfo));

  // Trust only ever grows within a session; the server widens what it reads when it does.
  context.subscriptions.push(vscode.workspace.onDidGrantWorkspaceTrust(() => {
    const p: TrustChangedParams = { trusted: true };
    void lc.sendNotification(TRUST_CHANGED, p);
  }));

  context.subscriptions.push(
    vscode.commands.registerCommand('kmodsim.simulateInsmod',
      (arg?: vscode.Uri | SimulateArgs) => reportFailure('Simulate insmod',
        () => simulateInsmodCommand(lc, reports, status, arg))),
    vscode.commands.registerCommand('kmodsim.showModuleInfo',
      (arg?: vscode.Uri | string) => reportFailure('Show module info', async () => {
        const file = arg instanceof vscode.Uri ? arg.fsPath
          : arg ?? await pickModule('kmodsim: Show module info');
        if (file === undefined) return undefined;
        const r = await lc.sendRequest<ModuleInfoResult>(MODULE_INFO, { file });
        await modinfo.show(file, r.text);
        return r.text;
      })),
    vscode.commands.registerCommand('kmodsim.selectTarget',
      (value?: string) => selectTargetCommand(lc, value)));

  await lc.start();
  return { client: lc, statusText: () => status.text, restarts,
    lastRestartMessage: () => lastRestartMessage };
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}

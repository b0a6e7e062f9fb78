// A plain LSP client for the protocol tests: it starts the bundled server (dist/server.js,
// built by `node esbuild.mjs`) over stdio or node IPC, answers the server's requests the
// way an editor would (workspace/configuration with the settings given), and records what
// the server publishes: diagnostics per URI, notifications and log lines.

import { fork, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import {
  createMessageConnection, IPCMessageReader, IPCMessageWriter, StreamMessageReader,
  StreamMessageWriter, type MessageConnection,
} from 'vscode-jsonrpc/node';
import type { Diagnostic } from 'vscode-languageserver-protocol';

export const REPO = path.resolve(__dirname, '..', '..');
export const SERVER = path.join(REPO, 'dist', 'server.js');

export interface StartOptions {
  folders: string[];
  settings?: Record<string, unknown>;
  trusted?: boolean;
  debounceMs?: number;
  // Answer workspace/configuration (as VS Code does); otherwise the settings go in
  // initializationOptions, as a client without it would send them.
  configuration?: boolean;
  // stdio (any LSP client) or node IPC (how vscode-languageclient starts it).
  transport?: 'stdio' | 'ipc';
}

export function fileUri(file: string): string {
  return pathToFileURL(file).toString();
}

type Waiter = { check: () => boolean; resolve: () => void };

export class LspClient {
  readonly diagnostics = new Map<string, Diagnostic[]>();
  // Every publishDiagnostics with the time it arrived (performance.now()).
  readonly published: { uri: string; at: number }[] = [];
  readonly notifications: { method: string; params: unknown }[] = [];
  readonly logs: string[] = [];
  private waiters: Waiter[] = [];
  settings: Record<string, unknown>;
  initializeResult: unknown;

  private constructor(private readonly proc: ChildProcess,
    readonly connection: MessageConnection, settings: Record<string, unknown>) {
    this.settings = settings;
  }

  static async start(o: StartOptions): Promise<LspClient> {
    if (!fs.existsSync(SERVER)) throw new Error(`${SERVER} is missing: run \`node esbuild.mjs\``);
    const ipc = o.transport === 'ipc';
    const proc = ipc
      ? fork(SERVER, ['--node-ipc'], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
      : spawn(process.execPath, [SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const connection = ipc
      ? createMessageConnection(new IPCMessageReader(proc), new IPCMessageWriter(proc))
      : createMessageConnection(new StreamMessageReader(proc.stdout!),
        new StreamMessageWriter(proc.stdin!));
    const client = new LspClient(proc, connection, o.settings ?? {});
    proc.stderr!.on('data', (d: Buffer) => client.logs.push(`stderr: ${d}`));
    connection.onNotification('textDocument/publishDiagnostics',
      (p: { uri: string; diagnostics: Diagnostic[] }) => {
        client.diagnostics.set(p.uri, p.diagnostics);
        client.published.push({ uri: p.uri, at: performance.now() });
        client.wake();
      });
    connection.onNotification('window/logMessage', (p: { message: string }) => {
      client.logs.push(p.message);
      client.wake();
    });
    connection.onNotification((method: string, params: unknown) => {
      client.notifications.push({ method, params });
      client.wake();
    });
    connection.onRequest('workspace/configuration',
      (p: { items: { section?: string }[] }) => p.items.map(() => client.settings));
    connection.onRequest('client/registerCapability', () => null);
    connection.onRequest('window/workDoneProgress/create', () => null);
    connection.listen();
    const configuration = o.configuration ?? true;
    client.initializeResult = await connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: o.folders[0] ? fileUri(o.folders[0]) : null,
      workspaceFolders: o.folders.map((f) => ({ uri: fileUri(f), name: path.basename(f) })),
      capabilities: {
        workspace: { configuration, didChangeConfiguration: { dynamicRegistration: true } },
        textDocument: { completion: { completionItem: { snippetSupport: false } },
          hover: { contentFormat: ['markdown', 'plaintext'] } },
      },
      initializationOptions: { trusted: o.trusted ?? true, debounceMs: o.debounceMs ?? 50,
        settings: configuration ? undefined : o.settings },
    });
    await connection.sendNotification('initialized', {});
    return client;
  }

  private wake() {
    this.waiters = this.waiters.filter((w) => {
      if (!w.check()) return true;
      w.resolve();
      return false;
    });
  }

  // Resolves once `check` holds; fails after `ms` with what was seen, so a hang is a clear
  // failure rather than a stuck test.
  until(what: string, check: () => boolean, ms = 60_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const seen = [...this.diagnostics].map(([u, d]) => `${u}: ${d.length}`).join('\n');
        reject(new Error(`timed out waiting for ${what}; diagnostics:\n${seen}\nlog:\n` +
          this.logs.join('\n')));
      }, ms);
      this.waiters.push({ check, resolve: () => {
        clearTimeout(timer);
        resolve();
      } });
    });
  }

  async diagnosticsOf(uri: string, check: (d: Diagnostic[]) => boolean = () => true):
    Promise<Diagnostic[]> {
    await this.until(`diagnostics of ${uri}`, () => {
      const d = this.diagnostics.get(uri);
      return d !== undefined && check(d);
    });
    return this.diagnostics.get(uri)!;
  }

  request<T>(method: string, params: unknown): Promise<T> {
    return this.connection.sendRequest(method, params) as Promise<T>;
  }

  notify(method: string, params: unknown) {
    return this.connection.sendNotification(method, params);
  }

  open(file: string, languageId: string, text: string, version = 1) {
    return this.notify('textDocument/didOpen',
      { textDocument: { uri: fileUri(file), languageId, version, text } });
  }

  async changeSettings(settings: Record<string, unknown>) {
    this.settings = settings;
    await this.notify('workspace/didChangeConfiguration', { settings: { kmodsim: settings } });
  }

  async stop() {
    try {
      await Promise.race([this.request('shutdown', null),
        new Promise((r) => setTimeout(r, 5000))]);
      await this.notify('exit', null);
    } catch {
      // The server may already be gone; killing it below is enough.
    }
    this.connection.dispose();
    this.proc.kill();
  }
}

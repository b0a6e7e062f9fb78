// The editor figure of `npm run bench`: a plain LSP client over stdio, started against
// dist/server.js on an empty workspace folder, puts a built module into the folder the way a
// linker finishes one (written aside, then renamed into place, and announced with
// workspace/didChangeWatchedFiles as VS Code's watcher would) and times how long the server
// takes from that moment to publishing the module's diagnostics. The server is told a
// debounce of 0 ms, so the file counts as settled as soon as its watcher sees it; VS Code's
// client adds the configured debounce (200 ms by default) before that point.

import type { ChildProcess, spawn as spawnType } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { MODULES, reportUri } from '../server/src/lsp/protocol.js';

export interface EditorStat { median_ms: number; min_ms: number; max_ms: number; runs_ms: number[];
  bytes: number; file: string }

export interface EditorFigures {
  debounce_ms: number;
  typical?: EditorStat;
  amdgpu?: EditorStat;
  // Why there are no figures, when there are none.
  unavailable?: string;
}

export interface EditorSetup {
  server: string;
  profile: string;
  work: string;
  modules: { typical: string; amdgpu: string };
  rounds: number;
  spawn: typeof spawnType;
}

const TIMEOUT_MS = 60_000;

interface Message { id?: number; method?: string; params?: unknown; result?: unknown;
  error?: { message: string } }

// Content-Length framed JSON-RPC over the child's stdio.
class Client {
  private buffer = Buffer.alloc(0);
  private nextId = 1;
  private pending = new Map<number, (m: Message) => void>();
  private listeners: ((m: Message) => void)[] = [];
  exited?: string;

  constructor(private readonly child: ChildProcess, settings: Record<string, unknown>) {
    child.stdout!.on('data', (d: Buffer) => this.data(d));
    child.on('exit', (code, signal) => { this.exited = `server exited (${code ?? signal})`; });
    this.listeners.push((m) => {
      // Requests from the server: configuration gets our settings, anything else null.
      if (m.id === undefined || !m.method) return;
      const items = (m.params as { items?: unknown[] } | undefined)?.items;
      const result = m.method === 'workspace/configuration' ? (items ?? []).map(() => settings)
        : null;
      this.send({ id: m.id, result });
    });
  }

  private data(d: Buffer) {
    this.buffer = Buffer.concat([this.buffer, d]);
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/Content-Length: (\d+)/i.exec(this.buffer.subarray(0, end)
        .toString('latin1'))?.[1]);
      if (this.buffer.length < end + 4 + length) return;
      const m = JSON.parse(this.buffer.subarray(end + 4, end + 4 + length).toString('utf8'));
      this.buffer = this.buffer.subarray(end + 4 + length);
      if (m.id !== undefined && !m.method) this.pending.get(m.id)?.(m);
      if (process.env.BENCH_LSP_TRACE) process.stderr.write(JSON.stringify(m).slice(0, 300) + '\n');
      for (const l of [...this.listeners]) l(m);
    }
  }

  send(m: Message) {
    const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...m }), 'utf8');
    this.child.stdin!.write(`Content-Length: ${body.length}\r\n\r\n`);
    this.child.stdin!.write(body);
  }

  request(method: string, params: unknown): Promise<Message> {
    const id = this.nextId++;
    this.send({ id, method, params });
    return this.within(new Promise((resolve) => this.pending.set(id, resolve)), method);
  }

  // The first notification `method` whose params satisfy `test`.
  next(method: string, test: (p: never) => boolean): Promise<void> {
    return this.within(new Promise((resolve) => {
      const l = (m: Message) => {
        if (m.method !== method || m.id !== undefined || !test(m.params as never)) return;
        this.listeners.splice(this.listeners.indexOf(l), 1);
        resolve();
      };
      this.listeners.push(l);
    }), method);
  }

  private within<T>(p: Promise<T>, what: string): Promise<T> {
    return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(
      `no ${what} from the server within ${TIMEOUT_MS / 1000} s` +
      (this.exited ? ` (${this.exited})` : ''))), TIMEOUT_MS).unref())]);
  }
}

function stat(runs: number[], file: string): EditorStat {
  const s = [...runs].sort((a, b) => a - b);
  const mid = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { median_ms: mid, min_ms: s[0], max_ms: s[s.length - 1], runs_ms: runs,
    bytes: fs.statSync(file).size, file };
}

export async function measureEditor(o: EditorSetup): Promise<EditorFigures> {
  const figures: EditorFigures = { debounce_ms: 0 };
  if (!fs.existsSync(o.server)) return { ...figures, unavailable: `${o.server} is not built` };
  fs.mkdirSync(o.work, { recursive: true });
  const settings = { kernel: o.profile };
  const child = o.spawn(process.execPath, [o.server, '--stdio'],
    { stdio: ['pipe', 'pipe', process.env.BENCH_LSP_STDERR ? 'inherit' : 'ignore'] });
  const client = new Client(child, settings);
  try {
    const root = pathToFileURL(o.work).href;
    await client.request('initialize', { processId: process.pid, rootUri: root,
      workspaceFolders: [{ uri: root, name: 'bench' }],
      capabilities: { workspace: { configuration: true } },
      initializationOptions: { trusted: true, debounceMs: 0, settings } });
    client.send({ method: 'initialized', params: {} });
    await client.request(MODULES, { wait: true });
    // The server's own file watcher starts after its first scan; let it get ready.
    await new Promise((r) => setTimeout(r, 1000));

    for (const kind of ['typical', 'amdgpu'] as const) {
      const source = o.modules[kind];
      const bytes = fs.readFileSync(source);
      const dest = path.join(o.work, path.basename(source));
      const uri = reportUri(dest);
      const runs: number[] = [];
      // One untimed round first, as the tree figures have their warm-up.
      for (let round = -1; round < o.rounds; round++) {
        const aside = path.join(o.work, `.${path.basename(source)}.tmp`);
        fs.writeFileSync(aside, bytes);
        const published = client.next('textDocument/publishDiagnostics',
          (p: { uri: string }) => p.uri === uri);
        const t = performance.now();
        fs.renameSync(aside, dest);
        // What VS Code's file watcher would send too; the server also watches on its own.
        client.send({ method: 'workspace/didChangeWatchedFiles', params: { changes: [
          { uri: pathToFileURL(dest).href, type: round < 0 ? 1 : 2 }] } });
        await published;
        if (round >= 0) runs.push(performance.now() - t);
      }
      figures[kind] = stat(runs, source);
    }
  } catch (e) {
    figures.unavailable = (e as Error).message;
  } finally {
    if (!client.exited) await client.request('shutdown', null).catch(() => undefined);
    client.send({ method: 'exit' });
    setTimeout(() => child.kill(), 2000).unref();
  }
  return figures;
}

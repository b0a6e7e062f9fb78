// The workspace's built modules and modprobe.d files, kept up to date: found by a scan, then
// followed with a file watcher (and the client's didChangeWatchedFiles, when it sends them).
// A module is simulated once its file has had no event for the debounce time, and only when
// its identity or the settings changed since the last result. Simulations run one at a time
// from a queue, yielding to the event loop between modules, so every request is answered
// while a scan runs; one module that fails to read or decode never stops the others.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { watch, type FSWatcher } from 'chokidar';
import type { Connection, Diagnostic } from 'vscode-languageserver/node';
import {
  optionsFor, parseModprobeConf, placeOf, type ConfFile, type ConfLine,
} from '../modprobe/config.js';
import { splitOptionArguments } from '../modprobe/options.js';
import { sourceDiagnostics, moduleSources, type ParamOrigin } from './csource.js';
import {
  findFiles, identityOf, isModprobeFile, isModuleFile, isSourceFile, skippedDir, uriOf,
} from './files.js';
import { targetOf, treeModules, type Target } from './kernels.js';
import type { Log } from './log.js';
import {
  modprobeDiagnosticsSliced, type KnownModule, type ModuleDirectory,
} from './modprobe-docs.js';
import {
  REPORT_CHANGED, STATUS, reportUri, type ReportChangedParams, type StatusParams,
} from './protocol.js';
import { renderReport, renderUnreadable, type Rendered } from './report.js';
import { bootArgsOf, simulationKey, type EffectiveSettings } from './settings.js';
import { readFacts, type LoadRun, type ModuleFacts } from './simulate.js';
import { SimulationThread } from './simulation-thread.js';
import { parseModprobeSliced, Slicer } from './slices.js';

const RECHECK_MS = 500;
// The largest module file read: Debian's largest (amdgpu.ko) is 19 MB, and a file is read
// whole into memory, so a 1 GB file in the workspace must not be.
export const MAX_MODULE_FILE = 256 << 20;

export interface ModuleEntry {
  file: string;
  identity?: string;
  // The settings key the result was computed under.
  key?: string;
  facts?: ModuleFacts;
  rendered?: Rendered;
  // The C sources that got diagnostics from this module.
  sources: string[];
  // The modprobe.d options its last workspace load got, and where each argument sits.
  options?: string;
  origins?: ParamOrigin[];
  // When its file settled (performance.now()), until its diagnostics are out.
  settledAt?: number;
  // Why the file could not be read or decoded, for the report.
  readError?: string;
}

// Where the text of a modprobe file comes from: the open editor, else the disk.
export type OpenText = (file: string) => string | undefined;

export class Workspace {
  readonly modules = new Map<string, ModuleEntry>();
  readonly confs = new Set<string>();
  folders: string[] = [];
  settings!: EffectiveSettings;
  target!: Target;
  debounceMs = 200;
  // True from the start until the first scan's simulations are done.
  scanning = true;
  private key = '';
  private queue = new Set<string>();
  private draining = false;
  private timers = new Map<string, NodeJS.Timeout>();
  private rechecks = new Set<NodeJS.Timeout>();
  private watcher?: FSWatcher;
  private treeFacts = new Map<string, { identity?: string; facts: ModuleFacts }>();
  private sourceDiags = new Map<string, Map<string, Diagnostic[]>>();
  // What each modprobe file's published diagnostics were computed from (its identity and
  // the modules they name), so that the same ones are not computed and sent again.
  private confDiagsPublished = new Map<string, string>();
  private confsPublishing?: Promise<void>;
  private confsAgain = false;
  private drained: (() => void)[] = [];
  // The last message handed to the connection: it writes one at a time, so once this one is
  // out, all are (see drain).
  private written: Promise<void> = Promise.resolve();
  // Called when the set of known modules or their facts changed, for the open documents.
  onModulesChanged: () => void = () => undefined;

  private readonly thread: SimulationThread;

  constructor(private readonly connection: Connection, private readonly log: Log,
    private readonly openText: OpenText) {
    this.thread = new SimulationThread(log);
  }

  configure(settings: EffectiveSettings) {
    this.settings = settings;
    this.target = targetOf(settings);
    for (const why of settings.ignored) this.log.warn(`setting ignored: ${why}`);
    if (this.target.fallback) this.log.warn(this.target.fallback);
    const key = simulationKey(settings) + this.target.label;
    const changed = key !== this.key;
    this.key = key;
    this.log.info(`target kernel: ${this.target.label} (${this.target.profile.source})`);
    return changed;
  }

  roots(): string[] {
    return [...this.folders, ...this.settings.buildDirs];
  }

  // The first scan, and the watcher from then on.
  async start() {
    this.scanning = true;
    this.scanQueued = false;
    const t0 = performance.now();
    // The watcher first: a file written while the scan runs is then seen by one or both.
    await this.watch();
    const found = await findFiles(this.roots());
    // A new scan (the roots changed) forgets what is no longer under them.
    const listed = new Set(found.modules);
    for (const f of [...this.modules.keys()]) if (!listed.has(f)) this.forget(f);
    this.confs.clear();
    for (const c of found.confs) this.confs.add(c);
    for (const m of found.modules) {
      if (!this.modules.has(m)) this.modules.set(m, { file: m, sources: [] });
    }
    // Facts first, so a module whose provider is in the workspace finds it on its first run.
    for (const m of found.modules) {
      await yieldNow();
      this.refreshFacts(this.modules.get(m)!);
    }
    this.log.info(`found ${found.modules.length} module(s) and ${found.confs.length} ` +
      `modprobe file(s) in ${(performance.now() - t0).toFixed(0)} ms`);
    void this.publishConfs();
    this.onModulesChanged();
    this.scanQueued = true;
    for (const m of found.modules) this.enqueue(m, performance.now());
    if (!this.queue.size && !this.draining) this.finishScan();
  }

  private sent(p: Promise<void>) {
    this.written = p.catch(() => undefined);
  }

  private finishScan() {
    this.scanning = false;
    for (const d of this.drained.splice(0)) d();
  }

  // Resolves when the queue is empty (for requests that want settled results).
  async idle(): Promise<void> {
    if (this.scanning || this.queue.size || this.draining) {
      await new Promise<void>((r) => this.drained.push(r));
    }
    while (this.confsPublishing) await this.confsPublishing;
  }

  private async watch() {
    await this.watcher?.close();
    const roots = this.roots().filter((r) => fs.existsSync(r));
    if (!roots.length) return;
    const watcher = watch(roots, {
      ignoreInitial: true,
      // Our own debounce and identity check merge the steps of a rewrite; chokidar's merging
      // of an unlink and a re-add would hide a rename over the file made soon after another.
      atomic: false,
      // As the scan: a link to a directory (`loop -> .`) would be walked again and again, and
      // every module under it reported once per path.
      followSymlinks: false,
      ignored: (p, stats) => {
        const base = path.basename(p);
        if (stats?.isDirectory()) return skippedDir(base);
        if (!stats?.isFile()) return false;
        return !(isModuleFile(p) || isModprobeFile(p) || isSourceFile(p));
      },
    });
    this.watcher = watcher;
    watcher.on('all', (event, p) => this.fileEvent(p, event === 'unlink'));
    watcher.on('error', (e) => this.log.warn(`file watcher: ${(e as Error).message}`));
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  }

  async close() {
    for (const t of this.timers.values()) clearTimeout(t);
    for (const t of this.rechecks) clearTimeout(t);
    await this.watcher?.close();
    await this.thread.close();
  }

  // A file was created, changed or removed (from the watcher or the client).
  fileEvent(file: string, removed = false) {
    if (isModuleFile(file)) {
      const pending = this.timers.get(file);
      if (pending) clearTimeout(pending);
      this.timers.set(file, setTimeout(() => {
        this.timers.delete(file);
        this.settled(file);
      }, this.debounceMs));
    } else if (isModprobeFile(file)) {
      if (removed || !fs.existsSync(file)) this.confs.delete(file);
      else this.confs.add(file);
      void this.confChanged();
    } else if (isSourceFile(file)) {
      const dir = path.dirname(file);
      for (const e of this.modules.values()) {
        if (path.dirname(e.file) === dir && e.rendered) this.publishSources(e);
      }
    }
  }

  private settled(file: string) {
    const identity = identityOf(file);
    if (!identity) {
      this.forget(file);
      return;
    }
    if (!this.modules.has(file)) this.modules.set(file, { file, sources: [] });
    this.enqueue(file, performance.now());
    // A watcher can miss a rewrite that comes within a few milliseconds of the previous one
    // (chokidar re-attaches to the new inode after an event); one look a little later
    // catches it.
    const again = setTimeout(() => {
      this.rechecks.delete(again);
      const e = this.modules.get(file);
      if (e && identityOf(file) !== e.identity && !this.timers.has(file)) this.fileEvent(file);
    }, RECHECK_MS);
    this.rechecks.add(again);
  }

  private forget(file: string) {
    const e = this.modules.get(file);
    if (!e) return;
    this.modules.delete(file);
    this.sent(this.connection.sendDiagnostics({ uri: reportUri(file), diagnostics: [] }));
    e.sources.forEach((s) => this.setSourceDiagnostics(s, file, []));
    this.notifyReport(file);
    this.log.info(`${file}: removed`);
    // The modprobe.d lines naming it were checked against its parameters: not any more.
    void this.publishConfs();
    this.onModulesChanged();
  }

  // A modprobe file changed on disk: parsed a slice at a time, its diagnostics published, and
  // the modules whose options changed load differently.
  private async confChanged() {
    try {
      await this.parseConfs(new Slicer());
      void this.publishConfs();
      this.requeueChangedOptions();
    } catch (e) {
      this.log.error(`modprobe files: ${(e as Error).stack ?? e}`);
    }
  }

  private requeueChangedOptions() {
    const confs = this.confFiles();
    for (const e of this.modules.values()) {
      if (!e.facts || optionsFor(confs, e.facts.name) === (e.options ?? '')) continue;
      e.key = undefined;
      this.enqueue(e.file, performance.now());
    }
  }

  requeueAll() {
    for (const e of this.modules.values()) {
      e.key = undefined;
      this.enqueue(e.file, performance.now());
    }
  }

  private enqueue(file: string, settledAt: number) {
    const e = this.modules.get(file);
    if (e && e.settledAt === undefined) e.settledAt = settledAt;
    this.queue.add(file);
    void this.drain();
  }

  // Set once the first scan has queued what it found: a drain started earlier by a watcher
  // event must not end the scan (and answer `wait` requests) before that.
  private scanQueued = false;

  private async drain() {
    if (this.draining) return;
    this.draining = true;
    try {
      // Each load reads the modprobe files' options: parsed here a slice at a time, not by the
      // first load in one go.
      await this.parseConfs(new Slicer());
      while (this.queue.size) {
        // What the last module published is written before the next one runs: a scan makes
        // messages faster than a client reads them, and a reply to a request (a completion)
        // would wait behind all of them.
        await this.written;
        await yieldNow();
        const file = this.queue.values().next().value as string;
        this.queue.delete(file);
        try {
          await this.simulate(file);
        } catch (e) {
          this.log.error(`${file}: ${(e as Error).stack ?? e}`);
        }
      }
      void this.publishConfs();
      this.onModulesChanged();
    } finally {
      this.draining = false;
      if (!this.scanning) for (const d of this.drained.splice(0)) d();
      else if (this.scanQueued) this.finishScan();
    }
  }

  // Reads the file's facts when its identity changed. Returns the bytes read then (for the
  // load that follows), true when the facts stayed, undefined when the file is unreadable.
  private refreshFacts(e: ModuleEntry): Uint8Array | true | undefined {
    const identity = identityOf(e.file);
    if (identity && identity === e.identity && e.facts) return true;
    e.identity = identity;
    e.facts = undefined;
    e.readError = undefined;
    if (!identity) return undefined;
    try {
      const size = fs.statSync(e.file).size;
      if (size > MAX_MODULE_FILE) {
        throw new Error(`${size} bytes is more than any module (kmodsim reads at most ` +
          `${MAX_MODULE_FILE} bytes of one)`);
      }
      const raw = new Uint8Array(fs.readFileSync(e.file));
      e.facts = readFacts(e.file, raw);
      return raw;
    } catch (err) {
      e.readError = (err as Error).message;
      this.log.warn(`${e.file}: ${e.readError}`);
      return undefined;
    }
  }

  private exportsKey(f?: ModuleFacts): string {
    return (f?.exports ?? []).map((x) => `${x.name}:${x.crc ?? ''}`).join(',');
  }

  async simulateNow(file: string) {
    this.queue.delete(file);
    await this.simulate(file);
  }

  // One module: its simulation under the current settings, then everything it publishes.
  private async simulate(file: string) {
    const e = this.modules.get(file);
    if (!e) return;
    const before = this.exportsKey(e.facts);
    const read = this.refreshFacts(e);
    if (read === true && e.key === this.key && e.rendered) {
      e.settledAt = undefined;
      this.log.debug(`${file}: same identity and settings, result kept`);
      return;
    }
    const t0 = performance.now();
    const key = this.key;
    const rendered = await this.run(e, undefined, read instanceof Uint8Array ? read : undefined);
    // Deleted while it was simulated: nothing of it is published.
    if (this.modules.get(file) !== e) return;
    e.rendered = rendered;
    e.key = key;
    this.publishModule(e);
    const settledAt = e.settledAt ?? t0;
    e.settledAt = undefined;
    this.log.info(`${file}: ${e.rendered.verdict}; diagnostics ` +
      `${(performance.now() - settledAt).toFixed(1)} ms after the file settled ` +
      `(simulation ${(performance.now() - t0).toFixed(1)} ms)`);
    // A provider's exports changed: the modules that use them load differently now.
    if (before !== this.exportsKey(e.facts) && e.facts?.exports.length) {
      const names = new Set(e.facts.exports.map((x) => x.name));
      for (const other of this.modules.values()) {
        if (other === e || !other.facts) continue;
        if (other.facts.undefinedSymbols.some((s) => names.has(s))) {
          other.key = undefined;
          this.enqueue(other.file, performance.now());
        }
      }
    }
  }

  // Parsed once per version of the file: every module's load asks for them, and a file of
  // 100,000 lines takes a second to parse.
  private parsedConfs = new Map<string, { identity: string; conf: ConfFile }>();

  // Brings the parsed modprobe files up to date, a slice at a time.
  private async parseConfs(slicer: Slicer) {
    for (const c of [...this.confs]) await this.parsedConf(c, slicer);
  }

  // A parse under way, by file and identity: the scan's loads and its diagnostics both want
  // the file, and it is parsed once.
  private parsing = new Map<string, { identity?: string; conf: Promise<ConfFile | undefined> }>();

  private parsedConf(c: string, slicer: Slicer): Promise<ConfFile | undefined> {
    const identity = identityOf(c);
    const cached = this.parsedConfs.get(c);
    if (identity && cached?.identity === identity) return Promise.resolve(cached.conf);
    const under = this.parsing.get(c);
    if (under && under.identity === identity) return under.conf;
    const conf = this.parseConf(c, identity, slicer).finally(() => {
      if (this.parsing.get(c)?.conf === conf) this.parsing.delete(c);
    });
    this.parsing.set(c, { identity, conf });
    return conf;
  }

  private async parseConf(c: string, identity: string | undefined, slicer: Slicer):
    Promise<ConfFile | undefined> {
    let text: string;
    try {
      text = fs.readFileSync(c, 'utf8');
    } catch {
      this.parsedConfs.delete(c);
      return undefined;
    }
    const conf = await parseModprobeSliced(c, text, slicer);
    // The file may have changed while it was parsed: kept only under the identity it had.
    if (identity && identity === identityOf(c)) this.parsedConfs.set(c, { identity, conf });
    return conf;
  }

  // The modprobe files as modprobe would read them: from disk, unsaved edits aside.
  private confFiles(): ConfFile[] {
    const out: ConfFile[] = [];
    for (const c of [...this.confs].sort()) {
      const identity = identityOf(c);
      const cached = this.parsedConfs.get(c);
      if (identity && cached?.identity === identity) {
        out.push(cached.conf);
        continue;
      }
      try {
        const conf = parseModprobeConf(c, fs.readFileSync(c, 'utf8'));
        if (identity) this.parsedConfs.set(c, { identity, conf });
        out.push(conf);
      } catch {
        // Gone since it was listed: it has no options to give.
        this.parsedConfs.delete(c);
      }
    }
    return out;
  }

  // The load with the settings' flags and the workspace's modprobe.d options for the module.
  async run(e: ModuleEntry, typed?: { params: string; settings: EffectiveSettings },
    bytes?: Uint8Array): Promise<Rendered> {
    const s = typed?.settings ?? this.settings;
    const target = typed ? targetOf(s) : this.target;
    if (!e.facts) {
      const why = e.readError ?? (e.identity ? 'the file could not be read'
        : 'the file does not exist');
      return renderUnreadable(e.file, target.label, why);
    }
    let params = typed?.params ?? '';
    const paramsFrom: string[] = [];
    if (!typed) {
      const confs = this.confFiles();
      params = optionsFor(confs, e.facts.name);
      e.options = params;
      e.origins = [];
      for (const c of confs) {
        for (const l of c.options.get(e.facts.name) ?? []) {
          paramsFrom.push(`from ${c.file} line ${l.lastLine + 1}`);
          e.origins.push(...originsOf(c.file, l));
        }
      }
    } else {
      paramsFrom.push('(typed in Simulate insmod)');
    }
    let raw: Uint8Array;
    try {
      raw = bytes ?? new Uint8Array(fs.readFileSync(e.file));
    } catch (err) {
      return renderUnreadable(e.file, target.label, (err as Error).message);
    }
    const bootArgs = bootArgsOf(s);
    let run: LoadRun;
    try {
      run = await this.thread.run(e.facts, raw, {
        profile: target.profile, bootArgs, params, forceVermagic: s.force.vermagic,
        forceModversion: s.force.modversions,
        workspace: [...this.modules.values()].map((m) => m.facts).filter(isFacts),
      });
    } catch (err) {
      this.log.error(`${e.file}: ${(err as Error).message}`);
      return renderUnreadable(e.file, target.label,
        `the simulation failed: ${(err as Error).message.split('\n')[0]}`);
    }
    const flags: string[] = [];
    if (s.force.modversions) flags.push('MODULE_INIT_IGNORE_MODVERSIONS');
    if (s.force.vermagic) flags.push('MODULE_INIT_IGNORE_VERMAGIC');
    if (s.kernelConfig.forceLoad !== 'profile') {
      flags.push(`CONFIG_MODULE_FORCE_LOAD=${s.kernelConfig.forceLoad}`);
    }
    const notes = [...s.ignored.map((i) => `setting ignored: ${i}`)];
    if (target.fallback) notes.push(target.fallback);
    return renderReport({ file: e.file, target: `${target.label} (${target.profile.source})`,
      bootArgs, flags, params, paramsFrom: params ? paramsFrom : [], providers: run.providers,
      notes, decodeError: e.facts.decodeError, result: run.result });
  }

  publishModule(e: ModuleEntry) {
    const r = e.rendered!;
    this.sent(this.connection.sendDiagnostics({ uri: reportUri(e.file),
      diagnostics: r.diagnostics }));
    this.notifyReport(e.file);
    const status: StatusParams = { file: e.file, target: this.target.profile.release,
      verdict: r.verdict, ok: r.ok };
    this.sent(this.connection.sendNotification(STATUS, status));
    this.publishSources(e);
  }

  private notifyReport(file: string) {
    const p: ReportChangedParams = { uri: reportUri(file) };
    this.sent(this.connection.sendNotification(REPORT_CHANGED, p));
  }

  private publishSources(e: ModuleEntry) {
    const result = e.facts ? e.rendered?.result : undefined;
    const sources = e.facts ? moduleSources(e.file, e.facts.name) : [];
    for (const old of e.sources) {
      if (!sources.includes(old)) this.setSourceDiagnostics(old, e.file, []);
    }
    e.sources = sources;
    if (!e.facts || !result) {
      for (const s of sources) this.setSourceDiagnostics(s, e.file, []);
      return;
    }
    const diags = sourceDiagnostics(e.facts, result, sources, e.origins);
    for (const [s, d] of diags) this.setSourceDiagnostics(s, e.file, d);
  }

  private setSourceDiagnostics(source: string, module: string, diags: Diagnostic[]) {
    let byModule = this.sourceDiags.get(source);
    if (!byModule) this.sourceDiags.set(source, byModule = new Map());
    if (diags.length) byModule.set(module, diags);
    else byModule.delete(module);
    this.sent(this.connection.sendDiagnostics({ uri: uriOf(source),
      diagnostics: [...byModule.values()].flat() }));
  }

  // Diagnostics of every modprobe file on disk that is not open (open ones are the
  // document handler's). One pass at a time, a slice at a time; asked again while it runs,
  // it runs once more after, with what changed meanwhile.
  publishConfs(): Promise<void> {
    this.confsAgain = true;
    this.confsPublishing ??= (async () => {
      try {
        while (this.confsAgain) {
          this.confsAgain = false;
          await this.publishConfsOnce();
        }
      } catch (err) {
        this.log.error(`modprobe files: ${(err as Error).stack ?? err}`);
      } finally {
        this.confsPublishing = undefined;
      }
    })();
    return this.confsPublishing;
  }

  private async publishConfsOnce() {
    const dir = this.directory();
    const modulesKey = this.directoryKey();
    const slicer = new Slicer();
    for (const c of [...this.confs]) {
      if (this.openText(c) !== undefined) {
        // The editor's diagnostics stand meanwhile; the file's are sent again once it closes.
        this.confDiagsPublished.delete(c);
        continue;
      }
      const key = `${identityOf(c) ?? ''}\n${modulesKey}`;
      if (this.confDiagsPublished.get(c) === key) continue;
      const conf = await this.parsedConf(c, slicer);
      if (!conf || !this.confs.has(c)) continue;
      const diagnostics = await modprobeDiagnosticsSliced(conf, dir, slicer);
      if (!this.confs.has(c) || this.openText(c) !== undefined) continue;
      this.sent(this.connection.sendDiagnostics({ uri: uriOf(c), diagnostics }));
      this.confDiagsPublished.set(c, key);
    }
    for (const c of [...this.confDiagsPublished.keys()]) {
      if (!this.confs.has(c)) {
        this.sent(this.connection.sendDiagnostics({ uri: uriOf(c), diagnostics: [] }));
        this.confDiagsPublished.delete(c);
      }
    }
  }

  // What a modprobe file's diagnostics depend on besides its text: the workspace's modules
  // by name (their file and its identity), the target and lockdown.
  private directoryKey(): string {
    const parts = [this.target.label, this.target.profile.source,
      this.settings.kernelConfig.lockdown];
    // The first module of each name, as directory() looks them up.
    const seen = new Set<string>();
    for (const e of this.modules.values()) {
      const name = e.facts?.name;
      if (!name || seen.has(name)) continue;
      seen.add(name);
      parts.push(`${name}:${e.file}:${e.identity ?? ''}`);
    }
    return parts.join('\n');
  }

  // Module names for modprobe.d: the workspace's first, then the target's tree.
  directory(): ModuleDirectory {
    const byName = new Map<string, ModuleEntry>();
    for (const e of this.modules.values()) {
      const name = e.facts?.name;
      if (name && !byName.has(name)) byName.set(name, e);
    }
    const tree = treeModules(this.target.profile);
    return {
      lockdown: this.settings.kernelConfig.lockdown !== 'none',
      lookup: (name: string): KnownModule | undefined => {
        const e = byName.get(name);
        if (e) {
          return { facts: e.facts, origin: 'workspace', file: e.file,
            verdict: e.rendered?.verdict };
        }
        const file = tree.get(name);
        if (file === undefined) return undefined;
        // A saved profile knows the module's name, not its file.
        if (!file) return { origin: 'tree', file };
        return { facts: this.treeModuleFacts(file), origin: 'tree', file };
      },
      names: () => [
        ...[...byName.entries()].map(([name, e]) => ({ name, origin: 'workspace' as const,
          file: e.file })),
        ...[...tree.entries()].filter(([n]) => !byName.has(n))
          .map(([name, file]) => ({ name, origin: 'tree' as const, file })),
      ],
    };
  }

  private treeModuleFacts(file: string): ModuleFacts | undefined {
    const identity = identityOf(file);
    const cached = this.treeFacts.get(file);
    if (cached && cached.identity === identity) return cached.facts;
    try {
      const facts = readFacts(file);
      this.treeFacts.set(file, { identity, facts });
      return facts;
    } catch (e) {
      this.log.warn(`${file}: ${(e as Error).message}`);
      return undefined;
    }
  }

  // A module the request names: the workspace's entry, or a new one for a file outside.
  entryFor(file: string): ModuleEntry {
    let e = this.modules.get(file);
    if (!e) {
      e = { file, sources: [] };
      this.refreshFacts(e);
      return e;
    }
    this.refreshFacts(e);
    return e;
  }
}

// The arguments of one options line, as the kernel splits them, and where each is in the file.
function originsOf(file: string, l: ConfLine): ParamOrigin[] {
  const rest = l.rest!;
  return splitOptionArguments(rest.text).map((a) => {
    const start = placeOf(l, rest.start + a.start);
    const last = placeOf(l, rest.start + Math.max(a.start, a.end - 1));
    return { name: a.name, location: { uri: uriOf(file), range: {
      start: { line: start.line, character: start.column },
      end: { line: last.line, character: last.column + (a.end > a.start ? 1 : 0) } } } };
  });
}

function isFacts(f: ModuleFacts | undefined): f is ModuleFacts {
  return f !== undefined;
}

function yieldNow(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

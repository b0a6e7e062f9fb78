// The kmodsim language server: the wiring of the LSP connection (stdio, IPC or a socket, as
// vscode-languageserver picks from the command line: --stdio, --node-ipc, --socket=N) to the
// workspace of built modules, the modprobe.d documents and the custom requests of
// protocol.ts. Each handler catches its own failures, so a bad file or request is logged and
// answered, never fatal.

import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  createConnection, DidChangeConfigurationNotification, ErrorCodes, ProposedFeatures,
  ResponseError, TextDocuments, TextDocumentSyncKind, type CompletionItem, type InitializeParams,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { readModuleFile } from '../kernel/capture.js';
import type { ConfFile } from '../modprobe/config.js';
import { ModuleImage } from '../module/image.js';
import { readModuleSignature } from '../module/signature.js';
import { formatModinfo, formatParamDefaults } from '../report/modinfo.js';
import { isModprobeFile, pathOf } from './files.js';
import { availableTargets, targetOf } from './kernels.js';
import { Log } from './log.js';
import {
  modprobeCompletions, modprobeDiagnosticsSliced, modprobeHover, paramCompletions,
} from './modprobe-docs.js';
import {
  koPathOfReportUri, MODPROBE_LANGUAGE, MODULE_INFO, MODULES, PARAM_COMPLETIONS, REPORT,
  REPORT_CHANGED,
  reportUri, SETTINGS_SECTION, SIMULATE_INSMOD, TARGETS, TRUST_CHANGED,
  type InitializationOptions, type ModuleInfoParams, type ModuleInfoResult, type ModulesResult,
  type ParamCompletionItem, type ParamCompletionsParams, type PartialSettings,
  type ReportParams, type ReportResult, type SimulateInsmodParams, type SimulateInsmodResult,
  type TargetItem, type TrustChangedParams,
} from './protocol.js';
import { checkParams } from './request-params.js';
import { effectiveSettings, normalizeSettings, type EffectiveSettings } from './settings.js';
import { parseModprobeSliced, Slicer } from './slices.js';
import { Workspace } from './workspace.js';

// Without a transport on the command line createConnection() throws a stack trace at whoever
// started the server by hand; tell them how it is started instead.
if (!process.argv.slice(2).some((a) => /^--(stdio|node-ipc|socket=|pipe=)/.test(a))) {
  process.stderr.write('kmodsim language server: start it with --stdio, --node-ipc, ' +
    '--socket=PORT or --pipe=NAME, as an editor does\n');
  process.exit(2);
}

const connection = createConnection(ProposedFeatures.all);
const log = new Log(connection);
const documents = new TextDocuments(TextDocument);

let trusted = true;
let canAskConfiguration = false;
let initialSettings: PartialSettings = {};
let rawSettings: ReturnType<typeof normalizeSettings> = {};
// Settles once the settings in force have been read; requests wait for it, so a request sent
// right after a settings change is answered under the new settings.
let markStarted: () => void = () => undefined;
let settingsReady: Promise<void> = new Promise((resolve) => {
  markStarted = resolve;
});

function openModprobeText(file: string): string | undefined {
  for (const d of documents.all()) {
    if (pathOf(d.uri) === file) return d.getText();
  }
  return undefined;
}

const workspace = new Workspace(connection, log, openModprobeText);
workspace.onModulesChanged = () => {
  for (const d of documents.all()) void publishDocument(d);
};

function settingsNow(raw = rawSettings): EffectiveSettings {
  return effectiveSettings(raw, workspace.folders, trusted);
}

async function readSettings(): Promise<ReturnType<typeof normalizeSettings>> {
  if (!canAskConfiguration) return normalizeSettings(initialSettings);
  try {
    const got = await connection.workspace.getConfiguration(SETTINGS_SECTION);
    return normalizeSettings(got ?? initialSettings);
  } catch (e) {
    log.warn(`workspace/configuration failed: ${(e as Error).message}`);
    return normalizeSettings(initialSettings);
  }
}

function applySettings(): boolean {
  const s = settingsNow();
  log.level = s.trace === 'verbose' ? 'debug' : 'info';
  return workspace.configure(s);
}

connection.onInitialize((params: InitializeParams) => {
  const opts = (params.initializationOptions ?? {}) as Partial<InitializationOptions>;
  // A client that says nothing about trust (any client but ours) is the user's own choice
  // of server and workspace: trusted.
  trusted = opts.trusted ?? true;
  initialSettings = opts.settings ?? {};
  if (typeof opts.debounceMs === 'number' && opts.debounceMs >= 0) {
    workspace.debounceMs = opts.debounceMs;
  }
  canAskConfiguration = params.capabilities.workspace?.configuration === true;
  const folders = params.workspaceFolders?.map((f) => pathOf(f.uri)).filter(isString)
    ?? [params.rootUri ? pathOf(params.rootUri) : params.rootPath ?? undefined]
      .filter(isString);
  workspace.folders = folders;
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      completionProvider: { triggerCharacters: [' ', '=', '\t'] },
      hoverProvider: true,
      workspace: { workspaceFolders: { supported: true } },
    },
    serverInfo: { name: 'kmodsim', version: '0.1.0' },
  };
});

connection.onInitialized(async () => {
  try {
    if (canAskConfiguration) {
      void connection.client.register(DidChangeConfigurationNotification.type, undefined)
        .catch(() => undefined);
    }
    rawSettings = await readSettings();
  } catch (e) {
    log.error(`settings: ${(e as Error).stack ?? e}`);
  }
  try {
    applySettings();
  } catch (e) {
    // Only a broken installation (no bundled profile) gets here; requests still get answers.
    log.error(`target kernel: ${(e as Error).stack ?? e}`);
  } finally {
    markStarted();
  }
  try {
    await workspace.start();
  } catch (e) {
    log.error(`start: ${(e as Error).stack ?? e}`);
  }
});

connection.onDidChangeConfiguration((change) => {
  settingsReady = settingsReady.then(() => settingsChanged(change.settings));
});

async function settingsChanged(settings: unknown) {
  try {
    const pushed = (settings as Record<string, unknown> | undefined)?.[SETTINGS_SECTION];
    rawSettings = canAskConfiguration ? await readSettings()
      : normalizeSettings(pushed ?? initialSettings);
    const oldRoots = workspace.roots().join('\n');
    const changed = applySettings();
    if (oldRoots !== workspace.roots().join('\n')) await workspace.start();
    else if (changed) workspace.requeueAll();
    void workspace.publishConfs();
    for (const d of documents.all()) void publishDocument(d);
  } catch (e) {
    log.error(`settings: ${(e as Error).message}`);
  }
}

connection.onNotification(TRUST_CHANGED, async (p: TrustChangedParams) => {
  trusted = p.trusted;
  log.info(`workspace trust: ${trusted ? 'trusted' : 'not trusted'}`);
  const oldRoots = workspace.roots().join('\n');
  if (applySettings() || oldRoots !== workspace.roots().join('\n')) {
    await workspace.start();
    workspace.requeueAll();
  }
});

connection.onDidChangeWatchedFiles((p) => {
  for (const c of p.changes) {
    const file = pathOf(c.uri);
    if (file) workspace.fileEvent(file, c.type === 3);
  }
});

function isModprobeDocument(d: TextDocument): boolean {
  const file = pathOf(d.uri);
  return d.languageId === MODPROBE_LANGUAGE || (file !== undefined && isModprobeFile(file));
}

// An open document's diagnostics, a slice at a time (it may be a file of 100,000 lines);
// sent only while the document is still at the version they were computed for (the document
// object is updated in place by later edits).
async function publishDocument(d: TextDocument) {
  if (!isModprobeDocument(d)) return;
  const version = d.version;
  try {
    const slicer = new Slicer();
    const conf = await parsedDocument(d, slicer);
    const diagnostics = await modprobeDiagnosticsSliced(conf, workspace.directory(), slicer);
    if (documents.get(d.uri)?.version !== version) return;
    void connection.sendDiagnostics({ uri: d.uri, version, diagnostics });
  } catch (e) {
    log.error(`${d.uri}: ${(e as Error).stack ?? e}`);
  }
}

// The last parse of each open modprobe document, for its version: completion and hover ask
// for it on every keystroke's request.
const parsedDocuments = new Map<string, { version: number; conf: ConfFile }>();

async function parsedDocument(d: TextDocument, slicer: Slicer): Promise<ConfFile> {
  const version = d.version;
  const cached = parsedDocuments.get(d.uri);
  if (cached?.version === version) return cached.conf;
  const conf = await parseModprobeSliced(pathOf(d.uri) ?? d.uri, d.getText(), slicer);
  if (documents.get(d.uri)?.version === version) parsedDocuments.set(d.uri, { version, conf });
  return conf;
}

documents.onDidOpen((e) => void settingsReady.then(() => publishDocument(e.document)));
documents.onDidChangeContent((e) =>
  void settingsReady.then(() => publishDocument(e.document)));
documents.onDidClose((e) => {
  parsedDocuments.delete(e.document.uri);
  const file = pathOf(e.document.uri);
  if (file && workspace.confs.has(file)) {
    // Back to the file on disk once the editor lets go of it.
    setImmediate(() => void workspace.publishConfs());
  } else if (isModprobeDocument(e.document)) {
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  }
});
documents.onDidSave((e) => {
  const file = pathOf(e.document.uri);
  if (file && isModprobeFile(file)) workspace.fileEvent(file);
});

connection.onCompletion(async (p): Promise<CompletionItem[]> => {
  await settingsReady;
  const d = documents.get(p.textDocument.uri);
  if (!d || !isModprobeDocument(d)) return [];
  try {
    // Parsing is enough here; the options checks are the diagnostics' business.
    const conf = await parsedDocument(d, new Slicer());
    return modprobeCompletions(conf, p.position, workspace.directory());
  } catch (e) {
    log.error(`completion: ${(e as Error).stack ?? e}`);
    return [];
  }
});

connection.onHover(async (p) => {
  await settingsReady;
  const d = documents.get(p.textDocument.uri);
  if (!d || !isModprobeDocument(d)) return null;
  try {
    const conf = await parsedDocument(d, new Slicer());
    return modprobeHover(conf, p.position, workspace.directory()) ?? null;
  } catch (e) {
    log.error(`hover: ${(e as Error).stack ?? e}`);
    return null;
  }
});

const LOCKDOWN = ['none', 'integrity', 'confidentiality'] as const;

connection.onRequest(SIMULATE_INSMOD, async (params: unknown):
  Promise<SimulateInsmodResult> => {
  const p = checkParams<SimulateInsmodParams>(SIMULATE_INSMOD, params, {
    file: { type: 'string', required: true }, params: { type: 'string' },
    kernel: { type: 'string' }, ignoreModversions: { type: 'boolean' },
    ignoreVermagic: { type: 'boolean' }, sigEnforce: { type: 'boolean' },
    forceLoad: { oneOf: ['profile', 'y', 'n'] }, lockdown: { oneOf: LOCKDOWN },
  });
  await settingsReady;
  const file = path.resolve(p.file);
  const settings = insmodSettings(p);
  try {
    const entry = workspace.entryFor(file);
    const rendered = await workspace.run(entry, { params: p.params ?? '', settings });
    if (workspace.modules.has(file)) {
      entry.rendered = rendered;
      // The next rebuild or settings change brings back the workspace's own run.
      entry.key = undefined;
    }
    const uri = reportUri(file);
    reports.set(uri, rendered.text);
    void connection.sendDiagnostics({ uri, diagnostics: rendered.diagnostics });
    void connection.sendNotification(REPORT_CHANGED, { uri });
    const r = rendered.result;
    return {
      ok: rendered.ok, errno: r?.errno ?? 0, errnoName: r?.errnoName ?? '',
      lines: (r?.lines ?? []).map((l) => `<${l.level}>${l.text}`), report: rendered.text,
      reportUri: uri, verdict: rendered.verdict,
    };
  } catch (e) {
    // A failure of kmodsim's own, not the kernel's answer: an error, never a made-up verdict.
    log.error(`simulateInsmod ${file}: ${(e as Error).stack ?? e}`);
    throw new ResponseError(ErrorCodes.InternalError,
      `${SIMULATE_INSMOD}: ${file} not simulated: ${(e as Error).message}`);
  }
});

// The settings with the request's overrides. A kernel the request names must be usable: the
// bundled profile stands in only for the setting, which the user may not be looking at (the
// VS Code client sends the setting's own value when the user picks it: still the setting).
function insmodSettings(p: SimulateInsmodParams): EffectiveSettings {
  const raw = { ...rawSettings, force: { ...rawSettings.force }, kernelConfig:
    { ...rawSettings.kernelConfig } };
  if (p.kernel !== undefined) raw.kernel = p.kernel;
  if (p.ignoreModversions !== undefined) raw.force!.modversions = p.ignoreModversions;
  if (p.ignoreVermagic !== undefined) raw.force!.vermagic = p.ignoreVermagic;
  if (p.forceLoad !== undefined) raw.kernelConfig!.forceLoad = p.forceLoad;
  if (p.sigEnforce !== undefined) raw.kernelConfig!.sigEnforce = p.sigEnforce;
  if (p.lockdown !== undefined) raw.kernelConfig!.lockdown = p.lockdown;
  const settings = settingsNow(raw);
  if (p.kernel && p.kernel !== rawSettings.kernel) {
    const refused = settings.ignored.find((i) => i.startsWith('kmodsim.kernel'));
    const fallback = refused ?? targetOf(settings).fallback;
    if (fallback) {
      throw new ResponseError(ErrorCodes.InvalidParams,
        `${SIMULATE_INSMOD}: field 'kernel' cannot be used: ${fallback.replace(
          /; using the bundled profile instead$/, '')}`);
    }
  }
  return settings;
}

// Reports of Simulate insmod runs of files outside the workspace.
const reports = new Map<string, string>();

connection.onRequest(REPORT, async (params: unknown): Promise<ReportResult> => {
  const p = checkParams<ReportParams>(REPORT, params, { uri: { type: 'string', required: true } });
  await settingsReady;
  const file = koPathOfReportUri(p.uri);
  if (!file) return { text: `kmodsim: ${p.uri} is not a report URI\n` };
  try {
    // A module the scan has not reached yet is simulated now, out of turn.
    const e = workspace.modules.get(file);
    if (e && !e.rendered) await workspace.simulateNow(file);
    if (!fs.existsSync(file)) {
      // Deleted (the client asks again after each reportChanged): nothing left to show, and
      // whatever was published on the URI goes with it. The file itself decides, not the
      // module list, which learns of a delete only when the watcher's event comes.
      reports.delete(p.uri);
      void connection.sendDiagnostics({ uri: p.uri, diagnostics: [] });
      return { text: `kmodsim report: ${file}\nthe module file no longer exists\n` };
    }
    const known = workspace.modules.get(file)?.rendered?.text ?? reports.get(p.uri);
    if (known) return { text: known };
    // A module outside the workspace: simulate it now.
    const entry = workspace.entryFor(file);
    const rendered = await workspace.run(entry);
    reports.set(p.uri, rendered.text);
    void connection.sendDiagnostics({ uri: p.uri, diagnostics: rendered.diagnostics });
    return { text: rendered.text };
  } catch (e) {
    log.error(`report ${file}: ${(e as Error).stack ?? e}`);
    return { text: `kmodsim: ${(e as Error).message}\n` };
  }
});

connection.onRequest(MODULE_INFO, async (params: unknown): Promise<ModuleInfoResult> => {
  const p = checkParams<ModuleInfoParams>(MODULE_INFO, params,
    { file: { type: 'string', required: true } });
  await settingsReady;
  try {
    // What `kmodsim modinfo FILE` prints: kmod's modinfo, then the parameters' defaults.
    const bytes = readModuleFile(p.file);
    let text = formatModinfo(p.file, bytes);
    const sig = readModuleSignature(bytes);
    try {
      text += formatParamDefaults(ModuleImage.open(sig.present
        ? bytes.subarray(0, sig.elfLength) : bytes));
    } catch (e) {
      text += `kmodsim: the ELF image cannot be decoded: ${(e as Error).message}\n`;
    }
    return { text };
  } catch (e) {
    return { text: `kmodsim: ${p.file}: ${(e as Error).message}\n` };
  }
});

connection.onRequest(PARAM_COMPLETIONS, async (params: unknown):
  Promise<ParamCompletionItem[]> => {
  const p = checkParams<ParamCompletionsParams>(PARAM_COMPLETIONS, params, {
    file: { type: 'string', required: true }, text: { type: 'string', required: true },
    offset: { type: 'offset', required: true } });
  if (p.offset > p.text.length) {
    throw new ResponseError(ErrorCodes.InvalidParams, `${PARAM_COMPLETIONS}: field 'offset' ` +
      `${p.offset} is past the end of 'text' (${p.text.length} characters)`);
  }
  await settingsReady;
  try {
    const entry = workspace.entryFor(path.resolve(p.file));
    if (!entry.facts) return [];
    return paramCompletions(entry.facts, p.text, p.offset).map((c) => ({
      label: c.label, detail: c.detail ?? '',
      documentation: typeof c.documentation === 'string' ? c.documentation : '',
    }));
  } catch (e) {
    log.error(`paramCompletions: ${(e as Error).message}`);
    return [];
  }
});

connection.onRequest(TARGETS, (): TargetItem[] => {
  try {
    return availableTargets();
  } catch (e) {
    log.error(`targets: ${(e as Error).message}`);
    return [];
  }
});

connection.onRequest(MODULES, async (params: unknown): Promise<ModulesResult> => {
  const p = checkParams<{ wait?: boolean }>(MODULES, params, { wait: { type: 'boolean' } },
    true);
  await settingsReady;
  if (p?.wait) await workspace.idle();
  const modules = [...workspace.modules.values()].sort((a, b) => (a.file < b.file ? -1 : 1))
    .map((e) => ({ file: e.file, name: e.facts?.name ?? path.basename(e.file),
      ok: e.rendered?.ok ?? false, verdict: e.rendered?.verdict ?? 'not simulated yet',
      reportUri: reportUri(e.file) }));
  return { modules, scanning: workspace.scanning };
});

connection.onShutdown(async () => {
  await workspace.close();
});

process.on('uncaughtException', (e) => log.error(`uncaught: ${e.stack ?? e}`));
process.on('unhandledRejection', (e) => log.error(`unhandled rejection: ${String(e)}`));

function isString(s: string | undefined): s is string {
  return typeof s === 'string';
}

documents.listen(connection);
connection.listen();

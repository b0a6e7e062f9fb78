// The messages between the kmodsim client and server beyond standard LSP. Both sides import
// this file, so it must not import `vscode` or any server module: types and names only.
// Standard LSP carries the rest: publishDiagnostics (report documents, C sources, modprobe.d
// files), completion and hover (modprobe.d), workspace/didChangeWatchedFiles.

// The read-only report of one module lives at `kmodsim-report:<absolute .ko path>.report`
// (a virtual document). The server renders it; the client shows it through a content
// provider and the server publishes that URI's diagnostics.
export const REPORT_SCHEME = 'kmodsim-report';

export function reportUri(koPath: string): string {
  return `${REPORT_SCHEME}:${encodeURI(koPath)}.report`;
}

export function koPathOfReportUri(uri: string): string | undefined {
  if (!uri.startsWith(`${REPORT_SCHEME}:`) || !uri.endsWith('.report')) return undefined;
  return decodeURI(uri.slice(REPORT_SCHEME.length + 1, -'.report'.length));
}

// The flags and kernel-side switches of one simulated load. Absent = the setting's value.
export interface LoadOptions {
  // MODULE_INIT_IGNORE_MODVERSIONS (1) and MODULE_INIT_IGNORE_VERMAGIC (2), as insmod -f.
  ignoreModversions?: boolean;
  ignoreVermagic?: boolean;
  // Kernel config / boot overrides of the target profile.
  // CONFIG_MODULE_FORCE_LOAD: 'y' or 'n' overrides the profile's value; 'profile' keeps it.
  forceLoad?: ForceLoad;
  sigEnforce?: boolean;       // module.sig_enforce=1
  lockdown?: 'none' | 'integrity' | 'confidentiality';
}

export type ForceLoad = 'profile' | 'y' | 'n';

// kmodsim/simulateInsmod: the *Simulate insmod* command's load.
export const SIMULATE_INSMOD = 'kmodsim/simulateInsmod';
export interface SimulateInsmodParams extends LoadOptions {
  file: string;               // absolute path of the .ko (.ko.xz/.gz/.zst)
  params?: string;            // the parameter string as typed after the module name
  kernel?: string;            // as the kmodsim.kernel setting; absent = the setting
}
export interface SimulateInsmodResult {
  ok: boolean;                // the syscall returned 0
  errno: number;              // 0 when ok
  errnoName: string;          // "ENOEXEC", "" when ok
  lines: string[];            // the kernel log lines, "<level>text"
  report: string;             // the rendered report text (the report document's content)
  reportUri: string;          // where that report is published, with its diagnostics
  verdict: string;            // one line, as the status bar shows it
}

// kmodsim/report: the content of a report document (the client's content provider asks).
export const REPORT = 'kmodsim/report';
export interface ReportParams { uri: string }
export interface ReportResult { text: string }

// kmodsim/moduleInfo: *Show module info*; modinfo(8)'s output for the file.
export const MODULE_INFO = 'kmodsim/moduleInfo';
export interface ModuleInfoParams { file: string }
export interface ModuleInfoResult { text: string }

// kmodsim/paramCompletions: completions for the *Simulate insmod* parameter box, which is
// not a document. `text` is the box's content and `offset` the cursor in it.
export const PARAM_COMPLETIONS = 'kmodsim/paramCompletions';
export interface ParamCompletionsParams { file: string; text: string; offset: number }
export interface ParamCompletionItem {
  label: string;              // "times=" or "true"
  detail: string;             // "int, default 1"
  documentation: string;      // the parameter's description and permissions
}

// kmodsim/status (server -> client notification): the target and the verdict of one module,
// sent after each simulation so the status bar can show the active module's.
export const STATUS = 'kmodsim/status';
export interface StatusParams {
  file: string;               // absolute .ko path
  target: string;             // the target kernel's release, "6.1.0-57-amd64"
  verdict: string;            // "loads" or "ENOEXEC: disagrees about version of module_layout"
  ok: boolean;
}

// kmodsim/targets: the kernels the *Select target kernel* command offers.
export const TARGETS = 'kmodsim/targets';
export interface TargetItem {
  label: string;              // "debian-6.1.0-57-amd64 (bundled profile)": the profile's file
  value: string;              // what to store in kmodsim.kernel
  description: string;
}

// The language ids the client contributes: modprobe.d files and the report documents.
export const MODPROBE_LANGUAGE = 'modprobe';
export const REPORT_LANGUAGE = 'kmodsim-report';

// kmodsim/reportChanged (server -> client notification): a report document's text changed
// (its module was rebuilt or a setting changed), so the client re-asks kmodsim/report.
export const REPORT_CHANGED = 'kmodsim/reportChanged';
export interface ReportChangedParams { uri: string }

// The settings the client contributes (package.json `contributes.configuration`), which the
// server reads with workspace/configuration, section `kmodsim`, and re-reads on
// workspace/didChangeConfiguration. An absent key means the default written here.
export const SETTINGS_SECTION = 'kmodsim';
export interface Settings {
  kernel: string;             // kmodsim.kernel: "" = bundled 6.1 profile, "running", a path
  buildDirs: string[];        // kmodsim.buildDirs: more directories watched for .ko, []
  force: {
    modversions: boolean;     // kmodsim.force.modversions: ignoreModversions, false
    vermagic: boolean;        // kmodsim.force.vermagic: ignoreVermagic, false
  };
  kernelConfig: {
    forceLoad: ForceLoad;     // kmodsim.kernelConfig.forceLoad: CONFIG_MODULE_FORCE_LOAD, profile
    sigEnforce: boolean;      // kmodsim.kernelConfig.sigEnforce: module.sig_enforce=1, false
    lockdown: 'none' | 'integrity' | 'confidentiality';  // kmodsim.kernelConfig.lockdown
  };
  // kmodsim.trace.server ("off" | "messages" | "verbose") is vscode-languageclient's own.
}

// Workspace trust. Settings that point outside the workspace (kernel, buildDirs) count only
// in a trusted workspace. The client says whether it is trusted in initializationOptions and
// sends kmodsim/trustChanged when the user grants trust later (VS Code never revokes it
// without a reload).
export interface InitializationOptions {
  trusted: boolean;
  // Added by the server, for LSP clients other than VS Code: the settings to use when the
  // client cannot answer workspace/configuration (absent keys = defaults), and how long a
  // module file must stay unchanged before it is simulated (default 200 ms).
  settings?: PartialSettings;
  debounceMs?: number;
}
export type PartialSettings = Partial<Omit<Settings, 'force' | 'kernelConfig'>> & {
  force?: Partial<Settings['force']>;
  kernelConfig?: Partial<Settings['kernelConfig']>;
};

// kmodsim/modules (client -> server request, added by the server): the workspace's modules
// as the server knows them, for pickers and tests; `scanning` is true while simulations are
// still queued.
export const MODULES = 'kmodsim/modules';
export interface ModuleSummary {
  file: string;               // absolute .ko path
  name: string;               // the module name ("hello")
  ok: boolean;
  verdict: string;
  reportUri: string;
}
export interface ModulesResult { modules: ModuleSummary[]; scanning: boolean }
export const TRUST_CHANGED = 'kmodsim/trustChanged';
export interface TrustChangedParams { trusted: boolean }

// *Simulate insmod*: module, target kernel, flags, parameters; then the server's load and its
// report, shown as a document with the load's diagnostics on it. Each question is skipped
// when the caller (a test, a keybinding's args, the explorer menu) already gives the answer.

import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import {
  SIMULATE_INSMOD, reportUri, type LoadOptions, type SimulateInsmodParams,
  type SimulateInsmodResult,
} from '../../server/src/lsp/protocol.js';
import { pickModule } from './modules.js';
import { askParams } from './paramBox.js';
import type { ReportProvider } from './reports.js';
import type { StatusBar } from './statusBar.js';
import { configuredKernel, pickKernel } from './targets.js';

export interface SimulateArgs {
  file?: string;
  kernel?: string | null;     // null: the kmodsim.kernel setting, without asking
  flags?: LoadOptions;
  params?: string;
}

type Toggle = 'ignoreModversions' | 'ignoreVermagic' | 'sigEnforce' | 'forceLoad=y'
  | 'forceLoad=n' | 'lockdown=integrity' | 'lockdown=confidentiality';

interface FlagItem extends vscode.QuickPickItem { flag: Toggle }

const FLAGS: { flag: Toggle; label: string; detail: string }[] = [
  { flag: 'ignoreModversions', label: '--force-modversion',
    detail: 'MODULE_INIT_IGNORE_MODVERSIONS: skip the __versions CRC checks' },
  { flag: 'ignoreVermagic', label: '--force-vermagic',
    detail: 'MODULE_INIT_IGNORE_VERMAGIC: skip the vermagic comparison' },
  { flag: 'forceLoad=y', label: 'CONFIG_MODULE_FORCE_LOAD=y',
    detail: 'the force flags load with taint F even where the profile says n' },
  { flag: 'forceLoad=n', label: 'CONFIG_MODULE_FORCE_LOAD=n',
    detail: 'the force flags refuse the load (ENOEXEC) even where the profile says y' },
  { flag: 'sigEnforce', label: 'module.sig_enforce=1',
    detail: 'boot argument: refuse unsigned and badly signed modules' },
  { flag: 'lockdown=integrity', label: 'lockdown=integrity',
    detail: 'boot argument: also refuses unsigned modules and some parameters' },
  { flag: 'lockdown=confidentiality', label: 'lockdown=confidentiality',
    detail: 'boot argument: the strictest lockdown level' },
];

// The settings' flags, which the toggles start from.
function settingsFlags(): LoadOptions {
  const c = vscode.workspace.getConfiguration('kmodsim');
  return {
    ignoreModversions: c.get<boolean>('force.modversions', false),
    ignoreVermagic: c.get<boolean>('force.vermagic', false),
    forceLoad: c.get<LoadOptions['forceLoad']>('kernelConfig.forceLoad', 'profile'),
    sigEnforce: c.get<boolean>('kernelConfig.sigEnforce', false),
    lockdown: c.get<LoadOptions['lockdown']>('kernelConfig.lockdown', 'none'),
  };
}

function isOn(o: LoadOptions, flag: Toggle): boolean {
  if (flag === 'lockdown=integrity') return o.lockdown === 'integrity';
  if (flag === 'lockdown=confidentiality') return o.lockdown === 'confidentiality';
  if (flag === 'forceLoad=y') return o.forceLoad === 'y';
  if (flag === 'forceLoad=n') return o.forceLoad === 'n';
  return o[flag] === true;
}

// Every toggle comes back set, on or off, so the load does not fall back to a setting the
// user just switched off. Both lockdown toggles on means the stricter one, as the kernel
// keeps the highest level it was asked for.
async function askFlags(): Promise<LoadOptions | undefined> {
  const start = settingsFlags();
  const items: FlagItem[] = FLAGS.map((f) => ({ label: f.label, detail: f.detail,
    flag: f.flag, picked: isOn(start, f.flag) }));
  const picked = await vscode.window.showQuickPick(items, { canPickMany: true,
    title: 'kmodsim: load flags and kernel switches',
    placeHolder: 'Space toggles, Enter goes on' });
  if (!picked) return undefined;
  const on = new Set(picked.map((p) => p.flag));
  return {
    ignoreModversions: on.has('ignoreModversions'),
    ignoreVermagic: on.has('ignoreVermagic'),
    // Both ticked cancel out: the profile decides.
    forceLoad: on.has('forceLoad=y') === on.has('forceLoad=n') ? 'profile'
      : on.has('forceLoad=y') ? 'y' : 'n',
    sigEnforce: on.has('sigEnforce'),
    lockdown: on.has('lockdown=confidentiality') ? 'confidentiality'
      : on.has('lockdown=integrity') ? 'integrity' : 'none',
  };
}

export async function simulateInsmodCommand(client: LanguageClient, reports: ReportProvider,
  status: StatusBar, arg?: vscode.Uri | SimulateArgs): Promise<SimulateInsmodResult | undefined> {
  const given: SimulateArgs = arg instanceof vscode.Uri ? { file: arg.fsPath } : arg ?? {};

  const file = given.file ?? await pickModule('kmodsim: Simulate insmod');
  if (file === undefined) return undefined;
  const kernel = given.kernel === null ? configuredKernel() : given.kernel ?? await pickKernel(
    client, `kmodsim: load ${path.basename(file)} into`, configuredKernel());
  if (kernel === undefined) return undefined;
  const flags = given.flags ?? await askFlags();
  if (flags === undefined) return undefined;
  const params = given.params ?? await askParams(client, file);
  if (params === undefined) return undefined;

  const request: SimulateInsmodParams = { file, params, ...flags };
  // "" is the bundled profile, which is also what an empty setting means: say it explicitly
  // only when it differs from the setting, so the server's own default stays in charge.
  if (kernel !== '' || configuredKernel() !== '') request.kernel = kernel;
  const r = await client.sendRequest<SimulateInsmodResult>(SIMULATE_INSMOD, request);

  // A server predating the full result (no reportUri/verdict) still gets its report shown.
  const uri = r.reportUri ?? reportUri(file);
  await reports.show(uri, r.report);
  if (r.verdict) status.record({ file, target: '', verdict: r.verdict, ok: r.ok });
  return { ...r, reportUri: uri };
}

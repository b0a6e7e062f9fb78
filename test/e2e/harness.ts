// What both in-editor tests share: a scratch workspace with built modules and a modprobe.d
// file, a hermetic code-server (its own port, profile, XDG dirs and process group) and
// Debian's chromium driven by playwright-core. The tools come from scripts/setup-e2e.sh.

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const REPO = path.resolve(__dirname, '..', '..');
export const ARTIFACTS = path.join(REPO, 'test', 'e2e', 'artifacts');
const CACHE = process.env.KMODSIM_CACHE ?? path.join(os.homedir(), '.cache', 'kmodsim');
const CODE_SERVER = process.env.KMODSIM_CODE_SERVER ??
  path.join(CACHE, 'e2e', 'code-server-4.100.3', 'node_modules', '.bin', 'code-server');
const CHROMIUM = process.env.KMODSIM_CHROMIUM ?? '/usr/bin/chromium';
// The Debian 6.12 module tree fetch-corpus.sh unpacks: a target outside any test workspace.
export const TREE_612 = path.join(CACHE, 'root', 'lib', 'modules', '6.12.107+deb12-amd64');

export function checkTools(): void {
  for (const [what, file] of [['code-server', CODE_SERVER], ['chromium', CHROMIUM]]) {
    if (!fs.existsSync(file)) {
      throw new Error(`${what} not found at ${file}: run scripts/setup-e2e.sh first`);
    }
  }
}

export function scratchDir(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `kmodsim-${name}-`));
}

// The workspace the editor opens:
//   hello/          examples/hello (built for 6.1.0-57-amd64, the bundled profile's kernel)
//   params-6.12/    kmsim_params.ko built for 6.12.107+deb12-amd64, so it fails on 6.1
//   modprobe.d/kmodsim.conf   options lines the kernel would complain about
export const MODPROBE_CONF = [
  '# kmodsim e2e: what the kernel says about these is asserted by the tests',
  'options hello times=lots',
  'options hello delays=1,2,3,4',
  'options hello nosuch=1',
  'blacklist kmsim_params',
  '',
].join('\n');

export function makeWorkspace(settings?: Record<string, unknown>): string {
  const ws = scratchDir('ws');
  const put = (from: string, to: string) => {
    fs.mkdirSync(path.dirname(path.join(ws, to)), { recursive: true });
    fs.copyFileSync(path.join(REPO, from), path.join(ws, to));
  };
  for (const f of ['hello.ko', 'hello.c', 'Kbuild']) put(`examples/hello/${f}`, `hello/${f}`);
  const built = 'test/modules/build/6.12.107+deb12-amd64/kmsim_params.ko';
  if (!fs.existsSync(path.join(REPO, built))) {
    throw new Error(`${built} is missing: run scripts/build-modules.sh (scripts/setup.sh does)`);
  }
  put(built, 'params-6.12/kmsim_params.ko');
  put('test/modules/src/kmsim_params.c', 'params-6.12/kmsim_params.c');
  fs.writeFileSync(path.join(ws, 'params-6.12', 'Kbuild'), 'obj-m += kmsim_params.o\n');
  fs.mkdirSync(path.join(ws, 'modprobe.d'));
  fs.writeFileSync(path.join(ws, 'modprobe.d', 'kmodsim.conf'), MODPROBE_CONF);
  if (settings) {
    fs.mkdirSync(path.join(ws, '.vscode'));
    fs.writeFileSync(path.join(ws, '.vscode', 'settings.json'), JSON.stringify(settings));
  }
  return ws;
}

export interface CodeServer {
  url: string;
  root: string;           // the run's profile, extensions and XDG dirs
  stop(): Promise<void>;
}

// The XDG variables keep code-server and chromium out of the home directory.
function xdgEnv(root: string): Record<string, string> {
  return { XDG_CONFIG_HOME: path.join(root, 'xdg-config'),
    XDG_DATA_HOME: path.join(root, 'xdg-data'), XDG_CACHE_HOME: path.join(root, 'xdg-cache') };
}

const USER_SETTINGS = {
  'workbench.startupEditor': 'none',
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'workbench.tips.enabled': false,
  'chat.commandCenter.enabled': false,
};

function codeServerArgs(root: string): string[] {
  return ['--user-data-dir', path.join(root, 'user'), '--extensions-dir', path.join(root, 'ext'),
    '--config', path.join(root, 'config.yaml')];
}

// Installs a .vsix into the run's extensions dir, as a user would.
export function installVsix(root: string, vsix: string): Promise<string> {
  return run(CODE_SERVER, [...codeServerArgs(root), '--install-extension', vsix], root);
}

function run(cmd: string, args: string[], root: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...xdgEnv(root) } });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('error', reject);
    p.on('close', (code) => code === 0 ? resolve(out)
      : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${out}`)));
  });
}

export function prepareRoot(settings: Record<string, unknown> = {}): string {
  const root = scratchDir('cs');
  fs.mkdirSync(path.join(root, 'user', 'User'), { recursive: true });
  fs.mkdirSync(path.join(root, 'ext'));
  fs.writeFileSync(path.join(root, 'user', 'User', 'settings.json'),
    JSON.stringify({ ...USER_SETTINGS, ...settings }, null, 2));
  fs.writeFileSync(path.join(root, 'config.yaml'), 'auth: none\ncert: false\n');
  return root;
}

// Starts code-server on an ephemeral port. It runs in its own process group, so that stop()
// ends it with its extension host and the language server, and nothing else.
// `trust: false` leaves Workspace Trust on, so a workspace opened for the first time is not
// trusted (with the user settings prepareRoot was given to keep it from asking).
export async function startCodeServer(root: string, log: (s: string) => void,
  { trust = true }: { trust?: boolean } = {}): Promise<CodeServer> {
  const cs: ChildProcess = spawn(CODE_SERVER, [...codeServerArgs(root),
    '--bind-addr', '127.0.0.1:0', '--auth', 'none', '--disable-telemetry',
    '--disable-update-check', ...(trust ? ['--disable-workspace-trust'] : []),
    '--disable-getting-started-override', '--ignore-last-opened'], {
    detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...xdgEnv(root) },
  });
  const stop = async () => {
    if (cs.exitCode !== null || cs.pid === undefined) return;
    const gone = new Promise((r) => cs.once('exit', r));
    try { process.kill(-cs.pid, 'SIGTERM'); } catch { return; }
    const timer = setTimeout(() => {
      try { process.kill(-cs.pid!, 'SIGKILL'); } catch { /* already gone */ }
    }, 1000);
    await gone;
    clearTimeout(timer);
  };
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const onData = (d: Buffer) => {
      const text = d.toString();
      seen += text;
      log(text.trimEnd());
      const m = /HTTP server listening on (http:\/\/[\d.]+:\d+\/?)/.exec(seen);
      if (m) resolve(m[1]);
    };
    cs.stdout!.on('data', onData);
    cs.stderr!.on('data', onData);
    cs.on('exit', (code) => reject(new Error(`code-server exited ${code} before listening:\n` +
      seen)));
  });
  return { url, root, stop };
}

export async function launchChromium(root: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(path.join(root, 'chromium'), {
    executablePath: CHROMIUM, headless: true, env: { ...process.env, ...xdgEnv(root) },
    viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// Spells a path on the machine code-server runs on, for the workbench's payload parameter.
export function remoteUri(url: string, file: string): string {
  return `vscode-remote://${new URL(url).host}${file}`;
}

// Workspaces for the protocol tests: temporary directories holding copies of real built
// modules (the example, the project's own test modules, Debian's) and modprobe.d files.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { headersDir, modulesDir } from '../support/corpus.js';
import { REPO } from './client.js';

export const HELLO_DIR = path.join(REPO, 'examples', 'hello');

export type Content = string | Uint8Array | { copy: string };

export function makeWorkspace(files: Record<string, Content>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kmodsim-lsp-'));
  for (const [rel, content] of Object.entries(files)) writeFile(dir, rel, content);
  return dir;
}

export function writeFile(dir: string, rel: string, content: Content) {
  const file = path.join(dir, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // A Buffer has a copy() method of its own, so bytes are told apart first.
  if (typeof content === 'string' || content instanceof Uint8Array) {
    fs.writeFileSync(file, content);
  } else {
    fs.copyFileSync(content.copy, file);
  }
}

export function removeWorkspace(dir: string) {
  fs.rmSync(dir, { recursive: true, force: true });
}

// What kmod's own modinfo prints as each parameter's type: `parm: NAME:DESC (TYPE)`.
export function modinfoParmTypes(file: string): Map<string, string> {
  const r = spawnSync('modinfo', [file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`modinfo ${file}: ${r.stderr}`);
  const out = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const m = /^parm:\s+([^:]+):(.*) \(([^()]*)\)$/.exec(line) ?? /^parm:\s+([^:]+):()(.*)$/
      .exec(line);
    if (m) out.set(m[1], m[3]);
  }
  return out;
}

export function modinfoDescriptions(file: string): Map<string, string> {
  const r = spawnSync('modinfo', [file], { encoding: 'utf8' });
  const out = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const m = /^parm:\s+([^:]+):(.*) \([^()]*\)$/.exec(line);
    if (m) out.set(m[1], m[2]);
  }
  return out;
}

// kmod's verdict on a modprobe.d file: its complaints (without libkmod's source location)
// and the options it stored, from `modprobe -C FILE --showconfig`.
export function kmodReading(file: string): { errors: string[]; options: Map<string, string> } {
  const r = spawnSync('modprobe', ['-C', file, '--showconfig'], { encoding: 'utf8' });
  const errors = r.stderr.split('\n').map((l) => /kmod_config_parse: (.*)$/.exec(l)?.[1])
    .filter((l): l is string => l !== undefined);
  const options = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    // Each options line is listed on its own; a load gets them joined with a space.
    const m = /^options (\S+) (.*)$/.exec(line);
    if (m) options.set(m[1], options.has(m[1]) ? `${options.get(m[1])} ${m[2]}` : m[2]);
  }
  return { errors, options };
}

// A /lib/modules/<release> under `root`, laid out as on an installed system (build/ links to
// the headers), from the fetched tree.
export function moduleTree(root: string, release: string): string {
  const tree = path.join(root, 'lib', 'modules', release);
  fs.mkdirSync(tree, { recursive: true });
  const src = modulesDir(release);
  for (const e of fs.readdirSync(src)) {
    if (e === 'build' || e === 'source') continue;
    fs.symlinkSync(path.join(src, e), path.join(tree, e));
  }
  fs.symlinkSync(headersDir(release), path.join(tree, 'build'));
  return tree;
}

// How many times the event loop ran other work while `work` went on.
export async function turnsDuring<T>(work: Promise<T>): Promise<{ value: T; turns: number }> {
  let turns = 0;
  let done = false;
  const tick = () => {
    if (done) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  const value = await work;
  done = true;
  return { value, turns };
}

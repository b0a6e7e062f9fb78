// The files the server cares about, how it finds them, and what identifies one version of a
// file: (dev, ino, size, mtime). A rebuild that rewrites a module changes at least one of
// them, and a result computed for one identity stays valid until it changes.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const MODULE_FILE = /\.ko(\.(xz|gz|zst))?$/;

export function isModuleFile(file: string): boolean {
  return MODULE_FILE.test(file);
}

// modprobe.d/*.conf anywhere (etc/modprobe.d, lib/modprobe.d, a project's own), and the old
// single modprobe.conf.
export function isModprobeFile(file: string): boolean {
  const base = path.basename(file);
  if (base === 'modprobe.conf') return true;
  return base.endsWith('.conf') && path.basename(path.dirname(file)) === 'modprobe.d';
}

// What a C-source diagnostic may depend on: the sources and the build files naming them.
export function isSourceFile(file: string): boolean {
  const base = path.basename(file);
  return base.endsWith('.c') || base === 'Kbuild' || base === 'Makefile';
}

export function identityOf(file: string): string | undefined {
  try {
    const st = fs.statSync(file, { bigint: true });
    if (!st.isFile()) return undefined;
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
  } catch {
    return undefined;
  }
}

const SKIP_DIRS = new Set(['node_modules', '.git', '.hg', '.svn', '.vscode-test']);

export function skippedDir(name: string): boolean {
  return SKIP_DIRS.has(name) || (name.startsWith('.') && name !== '.');
}

// Every module and modprobe file under the roots, without following directory symlinks.
// Yields to the event loop every few directories so requests are answered meanwhile.
export async function findFiles(roots: string[]): Promise<{ modules: string[]; confs: string[] }> {
  const modules: string[] = [];
  const confs: string[] = [];
  let visited = 0;
  const walk = async (dir: string, depth: number) => {
    if (depth > 32) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (++visited % 16 === 0) await new Promise((r) => setImmediate(r));
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!skippedDir(e.name)) await walk(p, depth + 1);
      } else if (e.isFile()) {
        if (isModuleFile(p)) modules.push(p);
        else if (isModprobeFile(p)) confs.push(p);
      }
    }
  };
  for (const r of roots) await walk(r, 0);
  return { modules: [...new Set(modules)], confs: [...new Set(confs)] };
}

export function uriOf(file: string): string {
  return pathToFileURL(file).toString();
}

export function pathOf(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}

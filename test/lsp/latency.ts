// Prints how long the bundled server takes from a module file settling to its diagnostics,
// for the example hello.ko, a 35 KB Debian module (vfio-pci.ko of 6.1.0-57-amd64) and the
// 19 MB amdgpu.ko. Each round writes the module aside and renames it into the watched
// folder, as a linker finishes a file, and waits for the report's diagnostics. The server is
// told a debounce of 0 ms, so "settled" is the moment its watcher sees the rename; an editor
// adds its debounce (200 ms by default) before that. Figures, not a test:
// `node --import tsx test/lsp/latency.ts` (ROUNDS=15 by default).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { modulesDir, REL_61 } from '../support/corpus.js';
import { LspClient } from './client.js';
import { HELLO_DIR, makeWorkspace, removeWorkspace } from './fixtures.js';

const ROUNDS = Number(process.env.ROUNDS ?? 15);

// The example, a typical 35 KB module, and the largest module of the tree (the longest a
// request can wait behind one simulation).
const modules = [
  path.join(HELLO_DIR, 'hello.ko'),
  path.join(modulesDir(REL_61), 'kernel/drivers/vfio/pci/vfio-pci.ko'),
  path.join(modulesDir(REL_61), 'kernel/drivers/gpu/drm/amd/amdgpu/amdgpu.ko'),
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main() {
  const ws = makeWorkspace({});
  const client = await LspClient.start({ folders: [ws], debounceMs: 0 });
  try {
    await client.request('kmodsim/modules', { wait: true });
    for (const src of modules) {
      const target = path.join(ws, path.basename(src));
      const uri = `kmodsim-report:${encodeURI(target)}.report`;
      const endToEnd: number[] = [];
      for (let i = 0; i <= ROUNDS; i++) {
        const aside = path.join(ws, `.${path.basename(src)}.tmp`);
        fs.copyFileSync(src, aside);
        // A distinct mtime per round: the same bytes at a reused inode with the same coarse
        // timestamp would be the same file to the server, which then rightly does nothing.
        const when = new Date(Date.UTC(2026, 0, 1) + i * 1000);
        fs.utimesSync(aside, when, when);
        const seen = client.published.length;
        const t0 = performance.now();
        fs.renameSync(aside, target);
        await client.until(`diagnostics of ${target}`,
          () => client.published.slice(seen).some((p) => p.uri === uri));
        const at = client.published.slice(seen).find((p) => p.uri === uri)!.at;
        // The first round warms the JIT and the profile; it is shown but not counted.
        if (i > 0) endToEnd.push(at - t0);
        else console.log(`${path.basename(src)}: first round ${(at - t0).toFixed(1)} ms`);
        // Rebuilds are seconds apart; this keeps each round's events apart too.
        await new Promise((r) => setTimeout(r, 300));
      }
      const server = client.logs.filter((l) => l.startsWith(`${target}:`))
        .map((l) => Number(/diagnostics ([\d.]+) ms after the file settled/.exec(l)?.[1]))
        .filter((n) => !Number.isNaN(n)).slice(1);
      const size = fs.statSync(src).size;
      console.log(`${path.basename(src)} (${size} bytes), ${ROUNDS} rounds: rename -> ` +
        `diagnostics median ${median(endToEnd).toFixed(1)} ms (min ` +
        `${Math.min(...endToEnd).toFixed(1)}, max ${Math.max(...endToEnd).toFixed(1)}); ` +
        `server's own settle -> publish median ${median(server).toFixed(1)} ms`);
    }
  } finally {
    await client.stop();
    removeWorkspace(ws);
  }
}

void main();

// How time grows with input size, for the runner's report: each target on real Debian modules
// of about 8 KB, 64 KB, 512 KB and 4 MB, and the largest module of the tree, in microseconds
// per KB; the modprobe.d parser on files of 1,000 to 100,000 lines. Roughly linear means
// those figures stay of one order; a target whose figure on the largest input is more than
// SUPERLINEAR times its median is reported. Figures only: no test asserts a time (speed
// belongs to reports, not to pass/fail).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { CACHE, REL_61 } from '../support/corpus.js';
import { loadSeeds } from './seeds.js';
import { makeTargets } from './targets.js';

const SIZES = [8 << 10, 64 << 10, 512 << 10, 4 << 20, Infinity];
const SUPERLINEAR = 4;

function nearest(files: { file: string; size: number }[], want: number) {
  let best = files[0];
  for (const f of files) if (Math.abs(f.size - want) < Math.abs(best.size - want)) best = f;
  return best;
}

function modulesOf(root: string): { file: string; size: number }[] {
  const out: { file: string; size: number }[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ko')) out.push({ file: p, size: fs.statSync(p).size });
    }
  };
  walk(root);
  return out.sort((a, b) => a.size - b.size);
}

export interface ScalingRow {
  target: string;
  // [bytes, microseconds per KB] per input.
  points: [number, number][];
  superlinear: boolean;
}

export function measureScaling(): ScalingRow[] {
  const tree = path.join(CACHE, 'root/lib/modules', REL_61);
  if (!fs.existsSync(tree)) return [];
  const files = modulesOf(tree);
  const picked = [...new Set(SIZES.map((s) => (s === Infinity ? files[files.length - 1]
    : nearest(files, s)).file))].map((f) => new Uint8Array(fs.readFileSync(f)));
  const seeds = loadSeeds();
  const rows: ScalingRow[] = [];
  for (const t of makeTargets(seeds)) {
    if (t.name === 'params' || t.name === 'decompress' || t.name === 'modprobe') continue;
    const points: [number, number][] = picked.map((bytes) => {
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        t.run(bytes);
        times.push(performance.now() - t0);
      }
      const ms = times.sort((a, b) => a - b)[1];
      return [bytes.length, (ms * 1000) / (bytes.length / 1024)];
    });
    const per = points.map((p) => p[1]).sort((a, b) => a - b);
    const median = per[per.length >> 1];
    const largest = points[points.length - 1][1];
    rows.push({ target: t.name, points, superlinear: largest > SUPERLINEAR * median });
  }
  const modprobe = makeTargets(seeds).find((t) => t.name === 'modprobe');
  if (modprobe) rows.push(scaleText('modprobe', modprobe.run));
  return rows;
}

// modprobe.d files of 1,000 to 100,000 lines (the largest), of the usual commands.
function scaleText(target: string, run: (d: Uint8Array) => void): ScalingRow {
  const points: [number, number][] = [1000, 10_000, 100_000].map((n) => {
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      lines.push(i % 3 ? `options fuzzmod int=${i} arr=1,2,3 s=x${i}`
        : `alias pci:v${i}d* fuzzmod`);
    }
    const bytes = new Uint8Array(Buffer.from(lines.join('\n') + '\n'));
    const t0 = performance.now();
    run(bytes);
    return [bytes.length, ((performance.now() - t0) * 1000) / (bytes.length / 1024)];
  });
  const per = points.map((p) => p[1]).sort((a, b) => a - b);
  return { target, points, superlinear: points[points.length - 1][1] > SUPERLINEAR * per[1] };
}

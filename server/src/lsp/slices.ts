// Long work on the server's one thread (parsing and checking a modprobe.d file of 100,000
// lines) is cut into slices of a few milliseconds with the event loop run between them, so
// that requests (a completion while the file is checked) are answered in between.

import { performance } from 'node:perf_hooks';
import { confFileOf, modprobeLines, type ConfFile, type ConfLine } from '../modprobe/config.js';

// A request's answer takes a few turns of the event loop (its message read, its handler, its
// reply written), each behind one slice: short slices keep the sum well under the 100 ms a
// completion may take, and are still far longer than one yield.
export const SLICE_MS = 5;

export class Slicer {
  private start = performance.now();

  // True when this slice's time is used up: the caller then awaits next().
  due(): boolean {
    return performance.now() - this.start >= SLICE_MS;
  }

  // Lets the event loop run (pending I/O and requests), then starts a new slice.
  async next(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.start = performance.now();
  }
}

export async function parseModprobeSliced(file: string, source: string, slicer: Slicer):
  Promise<ConfFile> {
  const lines: ConfLine[] = [];
  for (const line of modprobeLines(file, source)) {
    lines.push(line);
    if (slicer.due()) await slicer.next();
  }
  return confFileOf(file, lines);
}

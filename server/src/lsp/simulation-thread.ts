// Simulations off the server's main thread: one worker thread (simulate-worker.ts, bundled
// beside the server as dist/simulate-worker.js) runs the loads one after the other while the
// main thread goes on answering requests. A target's profile is sent to it once, as its saved
// JSON; each load sends the module's facts, its bytes (moved, not copied) and the workspace
// modules it needs. A small module is simulated here: its load takes about a millisecond, less
// than the trip to the thread and back. Without the script (the sources run under tsx) every
// load runs here.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { KernelProfile } from '../kernel/profile.js';
import { profileToJson } from '../kernel/profile-json.js';
import type { Log } from './log.js';
import {
  simulateLoad, workspaceProviders, type LoadRequest, type LoadRun, type ModuleFacts,
} from './simulate.js';

export type ToThread =
  | { kind: 'profile'; id: number; json: string; source: string; modulesDir?: string }
  | { kind: 'load'; id: number; profile: number; facts: ModuleFacts; raw: Uint8Array;
    bootArgs: string; params: string; forceVermagic: boolean; forceModversion: boolean;
    providers: ModuleFacts[] };

export type FromThread = { id: number; run?: LoadRun; error?: string };

export const WORKER_SCRIPT = path.join(__dirname, 'simulate-worker.js');
// Below this many bytes a module is simulated on the main thread (a load takes roughly 8 ms
// per MB: amdgpu.ko's 19 MB about 150 ms).
export const THREAD_FROM_BYTES = 256 << 10;

export class SimulationThread {
  private worker?: Worker;
  private nextId = 1;
  private pending = new Map<number, { resolve: (r: LoadRun) => void;
    reject: (e: Error) => void }>();
  private profileIds = new WeakMap<KernelProfile, number>();

  constructor(private readonly log: Log, private readonly script = WORKER_SCRIPT,
    private readonly threadFrom = THREAD_FROM_BYTES) {}

  run(facts: ModuleFacts, raw: Uint8Array, req: LoadRequest): Promise<LoadRun> {
    const worker = raw.byteLength >= this.threadFrom ? this.started() : undefined;
    if (!worker) return Promise.resolve(simulateLoad(facts, raw, req));
    let profile = this.profileIds.get(req.profile);
    if (profile === undefined) {
      profile = this.nextId++;
      this.profileIds.set(req.profile, profile);
      worker.postMessage({ kind: 'profile', id: profile, json: profileToJson(req.profile),
        source: req.profile.source, modulesDir: req.profile.modulesDir } satisfies ToThread);
    }
    const id = this.nextId++;
    const message: ToThread = { kind: 'load', id, profile, facts, raw, bootArgs: req.bootArgs,
      params: req.params, forceVermagic: req.forceVermagic,
      forceModversion: req.forceModversion, providers: workspaceProviders(facts, req) };
    return new Promise<LoadRun>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // The bytes move to the thread only when they are a buffer of their own.
      const own = raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength;
      worker.postMessage(message, own ? [raw.buffer as ArrayBuffer] : []);
    });
  }

  async close() {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private started(): Worker | undefined {
    if (this.worker) return this.worker;
    if (!fs.existsSync(this.script)) return undefined;
    const worker = new Worker(this.script);
    worker.unref();
    worker.on('message', (m: FromThread) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.run) p.resolve(m.run);
      else p.reject(new Error(m.error ?? 'no result'));
    });
    // A thread that dies (out of memory on a hostile module) fails its loads; the next load
    // starts a new one, with the profiles sent again.
    const died = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.profileIds = new WeakMap();
      this.log.error(`simulation thread: ${why}`);
      for (const p of this.pending.values()) p.reject(new Error(`the simulation thread ${why}`));
      this.pending.clear();
    };
    worker.on('error', (e) => died(`failed: ${e.message}`));
    worker.on('exit', (code) => died(`exited with code ${code}`));
    this.worker = worker;
    return worker;
  }
}

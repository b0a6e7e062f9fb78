// The shape of a recorded real-kernel run of the conformance matrix
// (test/conformance/matrix/<release>.json), written by scripts/oracle-record.ts.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import type { KernelAnswer } from '../../server/src/cli/cases.js';

export interface RecordedCase extends KernelAnswer {
  id: string;
  ko: string;
  // sha256 of the file the kernel was given (none for `-`): a rebuilt input that differs is
  // named as such by the replay, not met as a kernel line that no longer matches.
  ko_sha256?: string;
  flags: string;
  params: string;
  options: string;
  // The kernel command line options of the boot the case ran in (its batch's).
  boot_args: string;
  // 'crashed': the guest died on this case (see crash); 'no-result': it never ran.
  stage: 'syscall' | 'crashed' | 'no-result';
  crash?: string;
  call: string;
  // Patterns (RegExp sources) of the lines the module's own init() printed.
  own_output?: string[];
  // Why a static simulation cannot decide this case; it is compared but never counted.
  undecidable?: string;
  // The relocation messages print a `val` derived from where memory was allocated.
  address_values?: boolean;
  // How many lines came in between the previous case and this one (not part of either).
  stray_lines_before?: number;
}

export interface RecordedBatch {
  name: string;
  boot_args: string;
  // The loading process' name, as the Lockdown line prints it.
  comm: string;
  wall_s: number;
  accel: string;
  guest: { uname_r: string; uname_v: string; cmdline: string; lockdown: string;
    taint: number; late_boot_lines: number } | null;
  complete: boolean;
  cases: RecordedCase[];
}

export interface RecordedKernel {
  recorder: 'kmodsim-oracle/1';
  kernel: { release: string; package: string; package_version: string };
  boot: string;
  recorded_at: string;
  wall_s: number;
  boots: number;
  cases: number;
  batches: RecordedBatch[];
}

// What a case's `ko_sha256` holds: the sha256 of the input file, in hex.
export function inputSha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

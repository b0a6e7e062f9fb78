// What one load carries from step to step: the image as the kernel sees it, the caller's
// flags and parameters, and what the load has printed and decided so far.

import type { ElfFile } from '../elf/index.js';
import type { KernelProfile } from '../kernel/profile.js';
import type { ModuleImage } from '../module/image.js';
import type { KernelLine } from './kmsg.js';
import type { KernelState, LoadedModule } from './state.js';

export const MODULE_INIT_IGNORE_MODVERSIONS = 1;
export const MODULE_INIT_IGNORE_VERMAGIC = 2;
export const MODULE_INIT_COMPRESSED_FILE = 4;

export type Syscall = 'init_module' | 'finit_module';

// One step of the load as the report shows it: the kernel function it mirrors, and how it
// ended. `detail` is our explanation for a person, kept apart from the kernel's own lines.
export interface StepRecord {
  step: string;
  outcome: 'ok' | 'failed' | 'skipped' | 'unknown';
  errno?: number;
  detail?: string;
  // Where in the file the step's finding is, when it has one place.
  where?: { section?: string; offset?: number; symbol?: string; parameter?: string };
}

export interface Finding {
  step: string;
  severity: 'error' | 'warning' | 'info';
  message: string;
  where?: StepRecord['where'];
}

export class LoadContext {
  readonly kernel: KernelState;
  readonly profile: KernelProfile;
  readonly syscall: Syscall;
  readonly flags: number;
  readonly args: string;
  readonly lines: KernelLine[] = [];
  readonly steps: StepRecord[] = [];
  readonly findings: Finding[] = [];
  // What a static simulation cannot know, said plainly.
  readonly unknowns: string[] = [];
  // Set when what the kernel does next depends on memory the simulation does not have (a
  // read or write out of bounds, a struct module of another layout): the verdict is then not
  // the simulation's to give. The first reason is kept.
  undecidable?: string;

  // The bytes the kernel works on (after in-kernel decompression), and `len` as the kernel
  // tracks it: the signature is cut off it by the signature check.
  bytes: Uint8Array;
  len: number;
  sigOk = false;
  elf?: ElfFile;
  image?: ModuleImage;
  // info->name: from .modinfo `name=`, else the name in the on-disk struct module.
  name?: string;
  // index.vers: whether the kernel uses __versions (cleared by IGNORE_MODVERSIONS).
  useVersions = false;
  module?: LoadedModule;
  // Taints of the module being loaded (mod->taints).
  moduleTaints = 0;
  usingGplOnlySymbols = false;
  // Modules whose exports this one uses (ref_module).
  readonly usedOwners = new Set<string>();

  constructor(kernel: KernelState, syscall: Syscall, bytes: Uint8Array, args: string,
    flags: number) {
    this.kernel = kernel;
    this.profile = kernel.profile;
    this.syscall = syscall;
    this.bytes = bytes;
    this.len = bytes.length;
    this.args = args;
    this.flags = flags;
  }

  get structModuleName(): string {
    return this.image?.thisModule?.name ?? this.name ?? '';
  }

  print(level: number, text: string) {
    this.lines.push({ level, text });
  }

  record(step: string, outcome: StepRecord['outcome'], detail?: string, errno?: number,
    where?: StepRecord['where']) {
    this.steps.push({ step, outcome, detail, errno, where });
  }

  undecide(reason: string) {
    this.undecidable ??= reason;
    this.unknowns.push(reason);
  }

  find(step: string, severity: Finding['severity'], message: string,
    where?: StepRecord['where']) {
    this.findings.push({ step, severity, message, where });
  }
}

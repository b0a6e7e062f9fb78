// The fuzz targets: each takes one input and exercises one part of the engine on it. A target
// returns normally for every input the engine handles as it should; it throws a Violation when
// a property of the issue is broken, and lets any other unexpected exception escape. Both are
// findings for the runner (test/fuzz/run.ts) and for the regression replay.
//
// What may leave a decoder: ElfFormatError, the typed "this file is malformed" error that the
// load turns into a diagnostic. A TypeError or RangeError from inside a decoder is a bug, even
// though SimulatedKernel's last-resort catch would turn it into a verdict.

import { ElfFormatError, ElfFile, tryOpen } from '../../server/src/elf/index.js';
import type { KernelProfile } from '../../server/src/kernel/profile.js';
import { checkBytes } from '../../server/src/cli/check.js';
import { insmod } from '../../server/src/cli/insmod.js';
import { LoadContext, MODULE_INIT_COMPRESSED_FILE } from '../../server/src/load/context.js';
import { ENOEXEC } from '../../server/src/load/errno.js';
import { SimulatedKernel } from '../../server/src/load/kernel.js';
import { loadModule } from '../../server/src/load/load-module.js';
import { KernelState, parseBootArgs } from '../../server/src/load/state.js';
import {
  decompressModule, detectCompression, kernelDecompress, type CompressionKind,
} from '../../server/src/module/decompress.js';
import { ModuleImage } from '../../server/src/module/image.js';
import {
  optionsFor, parseModprobeConf, softdepWords,
} from '../../server/src/modprobe/config.js';
import { checkOptions } from '../../server/src/modprobe/options.js';
import { modinfoSignatureFields, readModuleSignature } from '../../server/src/module/signature.js';
import { parseArgs, type KernelParamSpec } from '../../server/src/params/index.js';
import { formatModinfo, formatParamDefaults } from '../../server/src/report/modinfo.js';
import { formatInsmod, formatSteps, resultJson } from '../../server/src/report/text.js';

export class Violation extends Error {
  constructor(what: string) {
    super(what);
    this.name = 'Violation';
  }
}

export interface Target {
  name: string;
  run(data: Uint8Array): void;
}

// Output ceiling for the decompression target: well above any real module (the largest
// Debian 6.12 .ko.xz expands to about 20 MB), small enough that the limit itself is exercised.
export const FUZZ_MAX_OUTPUT = 64 << 20;

// The steps whose failure is one of the kernel's ELF validity checks (load/elf-validity.ts).
const ELF_CHECK_STEPS = new Set(['elf_validity_check', 'setup_load_info',
  'elf_validity_cache_copy']);

function allowDecodeError(e: unknown) {
  if (!(e instanceof ElfFormatError)) throw e;
  if (!e.message) throw new Violation('ElfFormatError without a message');
}

function attempt(step: () => void) {
  try {
    step();
  } catch (e) {
    allowDecodeError(e);
  }
}

// Every part of the decoder, as the report and the load would read it.
export function decodeElf(data: Uint8Array, forced: boolean) {
  let elf: ElfFile;
  if (forced) {
    try {
      elf = ElfFile.open(data, { forceClass: 64, forceLittleEndian: true });
    } catch (e) {
      allowDecodeError(e);
      return;
    }
  } else {
    const opened = tryOpen(data);
    if (!opened.ok) return;
    elf = opened.elf;
  }
  let sections;
  try {
    sections = elf.sections;
  } catch (e) {
    allowDecodeError(e);
    return;
  }
  for (const s of sections) {
    attempt(() => {
      const bytes = elf.sectionData(s);
      if (bytes.length > data.length) throw new Violation(`section ${s.index} larger than file`);
      elf.exactSectionField(s, 'size');
    });
  }
  attempt(() => {
    const syms = elf.symbols;
    if (!syms) return;
    if (syms.count * (elf.is64 ? 24 : 16) > data.length) {
      throw new Violation(`symbol table of ${syms.count} entries cannot fit the file`);
    }
    for (let i = 0; i < syms.count; i++) {
      syms.name(i);
      syms.value(i);
    }
    syms.find('init_module');
  });
  attempt(() => {
    for (const rel of elf.relocationSections()) {
      attempt(() => {
        rel.check();
        for (let i = 0; i < rel.count; i++) {
          rel.offset(i);
          rel.type(i);
          rel.sym(i);
          rel.addend(i);
        }
      });
    }
  });
}

export function decodeModule(data: Uint8Array) {
  const sig = readModuleSignature(data);
  if (sig.present && (sig.elfLength < 0 || sig.elfLength > data.length)) {
    throw new Violation(`signature trailer gives an ELF length of ${sig.elfLength}`);
  }
  modinfoSignatureFields(data);
  const elfBytes = sig.present && sig.elfLength > 0 ? data.subarray(0, sig.elfLength) : data;
  let image: ModuleImage;
  try {
    image = ModuleImage.open(elfBytes);
  } catch (e) {
    allowDecodeError(e);
    return;
  }
  attempt(() => void image.modinfo.get('vermagic'));
  attempt(() => void image.versions);
  attempt(() => void image.extendedVersions);
  attempt(() => void image.thisModule);
  attempt(() => void image.exports);
  attempt(() => void image.params);
  attempt(() => void image.name);
  // What `kmodsim modinfo` prints (it reports an ElfFormatError as the file's error).
  attempt(() => void formatModinfo('fuzz.ko', data));
  attempt(() => void formatParamDefaults(image));
}

export function checkDecompress(data: Uint8Array) {
  const kinds: CompressionKind[] = ['xz', 'gzip', 'zstd'];
  const detected = detectCompression(data);
  for (const kind of kinds) {
    if (detected !== kind && detected !== 'none') continue;
    const r = decompressModule(data, kind, { maxOutput: FUZZ_MAX_OUTPUT });
    if (r.ok && r.bytes.length > FUZZ_MAX_OUTPUT) {
      throw new Violation(`${kind} produced ${r.bytes.length} bytes past the limit`);
    }
    if (!r.ok && !r.error.what) throw new Violation(`${kind} refusal without a reason`);
  }
  const k = kernelDecompress(data, 'xz', { maxOutput: FUZZ_MAX_OUTPUT });
  if (!k.ok && !(k.errno > 0)) throw new Violation('kernel decompression failed without errno');
}

// One load, first through load_module() directly, where a decoder's unexpected exception is
// visible, then through the system call, whose result must be self-consistent.
export function checkLoad(profile: KernelProfile, data: Uint8Array, params: string) {
  const state = new KernelState(profile, parseBootArgs('', 'insmod'));
  const ctx = new LoadContext(state, 'finit_module', data, params, 0);
  try {
    loadModule(ctx);
  } catch (e) {
    allowDecodeError(e);
  }

  const kernel = SimulatedKernel.boot(profile);
  const compressed = detectCompression(data) === 'xz' && profile.config.MODULE_DECOMPRESS === 'xz';
  const r = kernel.finitModule(data, params, compressed ? MODULE_INIT_COMPRESSED_FILE : 0);
  checkResult(r);
  if (detectCompression(data) !== 'none') {
    checkResult(insmod(SimulatedKernel.boot(profile), data, params,
      { forceVermagic: true, forceModversion: true }));
  }

  // `kmodsim check`: the tree modules it needs put in place first, then the report.
  const checked = checkBytes(profile, data, { params });
  checkResult(checked);
  formatInsmod('fuzz.ko', checked);
  formatSteps(checked);
  JSON.stringify(resultJson('fuzz.ko', checked));
}

function checkResult(r: ReturnType<SimulatedKernel['finitModule']>) {
  if ((r.ret === 0) !== (r.errno === 0) || (r.ret !== 0 && r.ret !== -1)) {
    throw new Violation(`ret ${r.ret} with errno ${r.errno}`);
  }
  if (r.ret === -1 && !(Number.isInteger(r.errno) && r.errno > 0 && r.errnoName)) {
    throw new Violation(`refusal with errno ${r.errno} (${r.errnoName})`);
  }
  for (const l of r.lines) {
    if (typeof l.text !== 'string' || !Number.isInteger(l.level)) {
      throw new Violation('a kernel line that is not text');
    }
  }
  // A file failing an ELF validity check is refused with ENOEXEC and that check's message,
  // as the last line the kernel printed.
  const failed = r.steps.find((s) => s.outcome === 'failed' && ELF_CHECK_STEPS.has(s.step));
  if (failed) {
    if (r.errno !== ENOEXEC) {
      throw new Violation(`${failed.step} failed but errno is ${r.errnoName}`);
    }
    const last = r.lines[r.lines.length - 1];
    if (!last || last.text !== failed.detail) {
      throw new Violation(`${failed.step} failed with "${failed.detail}" but the kernel ` +
        `printed "${last?.text}"`);
    }
  }
}

// A parse_args input: the first byte picks how many of the specs the module has, the rest is
// the parameter string as the kernel receives it (bytes, read as latin1).
export function checkParams(specs: KernelParamSpec[], data: Uint8Array) {
  const n = data.length ? data[0] % (specs.length + 1) : specs.length;
  const args = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1', 1);
  for (const lockdown of [false, true]) {
    const r = parseArgs('fuzzmod', args, specs.slice(0, n), { lockdown });
    if (!Number.isInteger(r.errno) || r.errno < 0) throw new Violation(`errno ${r.errno}`);
    for (const a of r.assignments) {
      if (!specs.some((s) => s.name === a.param)) {
        throw new Violation(`assignment to ${a.param}, which the module does not have`);
      }
    }
  }
}

// A modprobe.d file: the parser as the server runs it on an open document, then the options
// check against the parameters of a module. Every range a finding names must lie in its line.
export function checkModprobe(specs: KernelParamSpec[], data: Uint8Array) {
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  const conf = parseModprobeConf('/etc/modprobe.d/fuzz.conf', text);
  const inside = (what: string, start: number, end: number, length: number) => {
    if (!(start >= 0 && start <= end && end <= length)) {
      throw new Violation(`${what} [${start}, ${end}) outside its text of ${length}`);
    }
  };
  for (const l of conf.lines) {
    const runsOk = l.runs.length % 3 === 0 && l.runs.every((v, i) => i % 3 !== 0
      || (v <= l.text.length && (i === 0 || v >= l.runs[i - 3])));
    if (!runsOk) throw new Violation('the line\'s runs do not match its text');
    for (const p of l.problems) {
      if (!p.message) throw new Violation('a problem without a message');
      inside('problem', p.start, p.end, l.text.length);
    }
    if (l.command === 'softdep' && l.rest) softdepWords(l.rest);
    if (l.command !== 'options' || !l.rest || !l.moduleName) continue;
    for (const f of checkOptions(l.moduleName, l.rest.text, specs)) {
      inside('option finding', f.start, f.end, l.rest.text.length);
    }
  }
  optionsFor([conf], 'fuzzmod');
}

export interface TargetContext {
  profiles: KernelProfile[];
  paramSpecs: KernelParamSpec[];
}

export function makeTargets(c: TargetContext): Target[] {
  return [
    { name: 'elf', run: (d) => { decodeElf(d, false); decodeElf(d, true); } },
    { name: 'module', run: decodeModule },
    { name: 'decompress', run: checkDecompress },
    { name: 'load', run: (d) => { for (const p of c.profiles) checkLoad(p, d, LOAD_PARAMS); } },
    { name: 'params', run: (d) => checkParams(c.paramSpecs, d) },
    { name: 'modprobe', run: (d) => checkModprobe(c.paramSpecs, d) },
  ];
}

// Parameters that reach parse_args on a module that gets that far (hello.ko has both).
export const LOAD_PARAMS = 'times=2 delays=1,2,3';

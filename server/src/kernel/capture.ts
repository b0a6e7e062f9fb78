// Building a KernelProfile from what a machine has: a kernel headers or build directory
// (Module.symvers, .config, the release), and /lib/modules/<release> (the kernel's own modules:
// sizeof(struct module) from their .gnu.linkonce.this_module, the trusted signer from their
// signatures, built-in modules). Everything read is named in the profile's `source`.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { ElfFile } from '../elf/index.js';
import { btfBaseOf } from '../module/btf.js';
import { ModuleImage } from '../module/image.js';
import { decompressModule, detectCompression } from '../module/decompress.js';
import { readModuleSignature } from '../module/signature.js';
import { isEnabled, parseKernelConfig, type KernelConfig as DotConfig } from './config.js';
import type { KernelConfig, KernelExport, KernelProfile, TrustedSigner } from './profile.js';
import { seriesOf } from './profile.js';
import { parseSymvers } from './symvers.js';
import { extractVmlinux, findCertificates, type KernelCertificate } from './vmlinux-certs.js';

export class CaptureError extends Error {
  constructor(readonly what: string, readonly file?: string) {
    super(file ? `${file}: ${what}` : what);
  }
}

export interface CaptureOptions {
  // /lib/modules/<release> (or a tree laid out like it) of the same kernel.
  modulesDir?: string;
  // The kernel image, for the module-signing certificates built into it.
  vmlinuz?: string;
  // sizeof(struct module) when no module of the kernel is at hand (e.g. headers of an older
  // ABI of the same series).
  structModuleSize?: number;
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new CaptureError(`cannot read: ${(e as Error).message}`, file);
  }
}

// VERMAGIC_STRING (include/linux/vermagic.h) from the release and the config.
export function vermagicOf(release: string, config: DotConfig, arch: string): string {
  let s = `${release} `;
  if (isEnabled(config, 'SMP')) s += 'SMP ';
  if (isEnabled(config, 'PREEMPT_RT')) s += 'preempt_rt ';
  else if (isEnabled(config, 'PREEMPT_BUILD') || isEnabled(config, 'PREEMPT')) s += 'preempt ';
  if (isEnabled(config, 'MODULE_UNLOAD')) s += 'mod_unload ';
  if (isEnabled(config, 'MODVERSIONS')) s += 'modversions ';
  if (arch === 'arm64') s += 'aarch64';
  if (isEnabled(config, 'RANDSTRUCT')) s += ' RANDSTRUCT';
  return s;
}

function configOf(c: DotConfig): KernelConfig {
  const decompress = !isEnabled(c, 'MODULE_DECOMPRESS') ? null
    : isEnabled(c, 'MODULE_COMPRESS_XZ') ? 'xz'
      : isEnabled(c, 'MODULE_COMPRESS_ZSTD') ? 'zstd'
        : isEnabled(c, 'MODULE_COMPRESS_GZIP') ? 'gzip' : null;
  return {
    MODVERSIONS: isEnabled(c, 'MODVERSIONS'),
    MODULE_FORCE_LOAD: isEnabled(c, 'MODULE_FORCE_LOAD'),
    MODULE_UNLOAD: isEnabled(c, 'MODULE_UNLOAD'),
    MODULE_SIG: isEnabled(c, 'MODULE_SIG'),
    MODULE_SIG_FORCE: isEnabled(c, 'MODULE_SIG_FORCE'),
    MODULE_DECOMPRESS: decompress,
    MODULE_ALLOW_MISSING_NAMESPACE_IMPORTS: isEnabled(c, 'MODULE_ALLOW_MISSING_NAMESPACE_IMPORTS'),
    LIVEPATCH: isEnabled(c, 'LIVEPATCH'),
    STRICT_MODULE_RWX: isEnabled(c, 'STRICT_MODULE_RWX'),
    RETPOLINE: isEnabled(c, 'RETPOLINE') || isEnabled(c, 'MITIGATION_RETPOLINE'),
    MODULE_ALLOW_BTF_MISMATCH: isEnabled(c, 'MODULE_ALLOW_BTF_MISMATCH'),
  };
}

function releaseOf(dir: string): string {
  const uts = path.join(dir, 'include/generated/utsrelease.h');
  if (fs.existsSync(uts)) {
    const m = /UTS_RELEASE\s+"([^"]+)"/.exec(readText(uts));
    if (m) return m[1];
  }
  // Debian's include/config/kernel.release holds the upstream version, not the ABI name, so
  // it comes last.
  const rel = path.join(dir, 'include/config/kernel.release');
  if (fs.existsSync(rel)) return readText(rel).trim();
  const base = path.basename(path.resolve(dir));
  if (base.startsWith('linux-headers-')) return base.slice('linux-headers-'.length);
  throw new CaptureError('no include/generated/utsrelease.h or kernel.release', dir);
}

// Reads a module file, decompressing it when needed.
export function readModuleFile(file: string): Uint8Array {
  const raw = new Uint8Array(fs.readFileSync(file));
  const kind = detectCompression(raw);
  if (kind === 'none') return raw;
  const r = decompressModule(raw, kind);
  if (!r.ok) throw new CaptureError(`cannot decompress (${kind}): ${r.error.what}`, file);
  return r.bytes;
}

// A few small in-tree modules that every Debian kernel has, to read struct module's size from.
const SAMPLE_MODULES = ['kernel/fs/nls/nls_utf8.ko', 'kernel/lib/crc7.ko', 'kernel/fs/fat/fat.ko'];

function findSample(modulesDir: string): string | undefined {
  for (const rel of SAMPLE_MODULES) {
    for (const ext of ['', '.xz', '.zst', '.gz']) {
      if (fs.existsSync(path.join(modulesDir, rel + ext))) return path.join(modulesDir, rel + ext);
    }
  }
  return undefined;
}

function builtinWithSysfs(modulesDir: string): Set<string> {
  const out = new Set<string>();
  const file = path.join(modulesDir, 'modules.builtin.modinfo');
  if (!fs.existsSync(file)) return out;
  // A built-in gets /sys/module/<name> when it has a version (named after KBUILD_MODNAME) or
  // parameters. Parameters are left out: their directory is named by MODULE_PARAM_PREFIX,
  // which modules.builtin.modinfo does not record (kfence's params are listed under "core"
  // but live in /sys/module/kfence), so counting them would refuse modules that load.
  for (const entry of fs.readFileSync(file, 'latin1').split('\0')) {
    const m = /^([^.=]+)\.version=/.exec(entry);
    if (m) out.add(m[1]);
  }
  return out;
}

// /lib/modules/<release> sits two levels below the root that has boot/vmlinuz-<release>.
function guessVmlinuz(modulesDir: string | undefined, release: string): string | undefined {
  if (!modulesDir) return undefined;
  const file = path.join(modulesDir, '..', '..', '..', 'boot', `vmlinuz-${release}`);
  return fs.existsSync(file) ? file : undefined;
}

// The ELF vmlinux inside a vmlinuz, or undefined when it cannot be read or unpacked (the
// profile then trusts signers by identity and has no BTF to check modules against).
function readVmlinux(vmlinuz: string): Uint8Array | undefined {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(vmlinuz);
  } catch {
    return undefined;
  }
  const r = extractVmlinux(bytes);
  return r.ok ? r.vmlinux : undefined;
}

function vmlinuxBtfOf(vmlinux: Uint8Array): KernelProfile['vmlinuxBtf'] {
  try {
    const elf = ElfFile.open(vmlinux);
    const s = elf.section('.BTF');
    return s ? btfBaseOf(elf.sectionData(s)) : undefined;
  } catch {
    return undefined;
  }
}

// A headers dir is given as is; for /lib/modules/<release> it is build/, or, when that absolute
// link does not resolve (a tree unpacked under another root), the headers beside the tree.
function headersDirOf(dir: string): string {
  if (fs.existsSync(path.join(dir, 'Module.symvers'))) return dir;
  if (fs.existsSync(path.join(dir, 'build', 'Module.symvers'))) return path.join(dir, 'build');
  const beside = path.join(dir, '..', '..', '..', 'usr', 'src',
    `linux-headers-${path.basename(path.resolve(dir))}`);
  if (fs.existsSync(path.join(beside, 'Module.symvers'))) return beside;
  return dir;
}

function sublevelOf(release: string): number {
  const m = /^\d+\.\d+\.(\d+)/.exec(release);
  return m ? Number(m[1]) : 0;
}

export function captureProfile(dir: string, opts: CaptureOptions = {}): KernelProfile {
  const headers = headersDirOf(dir);
  const modulesDir = opts.modulesDir
    ?? (fs.existsSync(path.join(dir, 'kernel')) ? dir : undefined);
  const symversFile = path.join(headers, 'Module.symvers');
  const symvers = parseSymvers(readText(symversFile));
  const dotconfig = parseKernelConfig(readText(path.join(headers, '.config')));
  const release = releaseOf(headers);
  const series = seriesOf(release);
  if (!series) throw new CaptureError(`kernel ${release} is not a series kmodsim models ` +
    '(6.1, 6.12)', headers);
  const arch = isEnabled(dotconfig, 'ARM64') ? 'arm64' : 'x86_64';

  const exports = new Map<string, KernelExport>();
  for (const [name, e] of symvers.exports) {
    exports.set(name, { crc: e.crc, gplOnly: e.gplOnly, namespace: e.namespace,
      owner: e.module });
  }

  const sources = [symversFile, path.join(headers, '.config')];
  let structModuleSize = 0;
  const trustedSigners: TrustedSigner[] = [];
  let builtin = new Set<string>();
  if (modulesDir) {
    const sample = findSample(modulesDir);
    if (sample) {
      const bytes = readModuleFile(sample);
      const sig = readModuleSignature(bytes);
      const elfBytes = sig.present ? bytes.subarray(0, sig.elfLength) : bytes;
      const image = ModuleImage.open(elfBytes);
      // A module tree of another kernel would give another struct module.
      const treeRelease = image.modinfo.get('vermagic')?.split(' ')[0];
      if (treeRelease && treeRelease !== release) {
        throw new CaptureError(`the module tree is of kernel ${treeRelease} (vermagic of ` +
          `${sample}), the headers of ${release}`, modulesDir);
      }
      structModuleSize = image.thisModule?.size ?? 0;
      if (sig.present && sig.pkcs7) {
        trustedSigners.push({ issuer: sig.pkcs7.signerIssuer, serialHex: sig.pkcs7.serialHex,
          subjectKeyIdHex: sig.pkcs7.subjectKeyIdHex });
      }
      sources.push(sample);
    }
    builtin = builtinWithSysfs(modulesDir);
  }
  const vmlinuz = opts.vmlinuz ?? guessVmlinuz(modulesDir, release);
  let vmlinuxBtf: KernelProfile['vmlinuxBtf'];
  if (vmlinuz) {
    const image = readVmlinux(vmlinuz);
    if (!image && opts.vmlinuz) {
      throw new CaptureError('not a kernel image kmodsim can unpack (bzImage or Image, ' +
        'compressed or not)', opts.vmlinuz);
    }
    const certs: { ok: boolean; certificates?: KernelCertificate[] } =
      image ? findCertificates(image) : { ok: false };
    if (image && isEnabled(dotconfig, 'DEBUG_INFO_BTF_MODULES')) {
      vmlinuxBtf = vmlinuxBtfOf(image);
    }
    if (certs.ok && certs.certificates) {
      // The certificates replace identity-only trust: with the key, a signature over changed
      // bytes is told apart from a good one.
      trustedSigners.length = 0;
      for (const c of certs.certificates) {
        trustedSigners.push({ issuer: c.issuer, serialHex: c.serialHex,
          subjectKeyIdHex: c.subjectKeyIdHex, certificatePem: c.pem });
      }
      sources.push(vmlinuz);
    }
  }
  if (opts.structModuleSize !== undefined
    && !(Number.isSafeInteger(opts.structModuleSize) && opts.structModuleSize > 0)) {
    throw new CaptureError(`--struct-module-size ${opts.structModuleSize}: not a positive ` +
      'number of bytes');
  }
  if (!structModuleSize && opts.structModuleSize) {
    structModuleSize = opts.structModuleSize;
    sources.push(`struct module size ${structModuleSize} given by the caller`);
  }
  if (!structModuleSize) {
    throw new CaptureError('sizeof(struct module) is unknown: give the kernel\'s module tree ' +
      '(--modules /lib/modules/<release>) so it can be read from an in-tree module, or ' +
      '--struct-module-size N', dir);
  }

  return {
    format: 'kmodsim-profile/1',
    release, series, arch,
    vermagic: vermagicOf(release, dotconfig, arch),
    config: configOf(dotconfig),
    rules: {
      // Every Debian kernel carries module-disable-matching-missing-version-crc.patch; the
      // headers do not say whether a kernel is Debian's, but its version string does.
      missingCrcFatal: /deb|^\d+\.\d+\.\d+-\d+-(amd64|arm64|cloud|rt)/.test(release),
      // 6.12.107 still had the older wording; 6.12.118 has the split checks.
      thisModuleCountMessage: sublevelOf(release) >= 118 || series !== '6.12' ? 'exactly-one'
        : 'only-one',
    },
    structModuleSize,
    moduleLayoutCrc: symvers.moduleLayoutCrc,
    exports,
    builtin,
    trustedSigners,
    ...(vmlinuxBtf ? { vmlinuxBtf } : {}),
    spectreV2Mitigated: true,
    source: sources.join(', '),
    modulesDir,
  };
}

// KernelProfile: everything the simulated loader needs to know about one target kernel. The
// profile decides the rules (series, Debian patches, config); load steps ask it and never
// test version strings themselves.

export type Series = '6.1' | '6.12';
export type Arch = 'x86_64' | 'arm64';

export interface KernelExport {
  crc?: number;
  gplOnly: boolean;
  namespace: string;
  // 'vmlinux' or the module (path without .ko, as Module.symvers has it) that exports it.
  owner: string;
}

export interface TrustedSigner {
  issuer: string;
  serialHex: string;
  subjectKeyIdHex?: string;
  // An X.509 certificate (PEM) when the key itself is known, so signatures can be verified.
  certificatePem?: string;
}

export interface KernelConfig {
  MODVERSIONS: boolean;
  MODULE_FORCE_LOAD: boolean;
  MODULE_UNLOAD: boolean;
  MODULE_SIG: boolean;
  MODULE_SIG_FORCE: boolean;
  // The one algorithm built into the in-kernel decompressor, or null without
  // CONFIG_MODULE_DECOMPRESS.
  MODULE_DECOMPRESS: 'xz' | 'gzip' | 'zstd' | null;
  MODULE_ALLOW_MISSING_NAMESPACE_IMPORTS: boolean;
  LIVEPATCH: boolean;
  STRICT_MODULE_RWX: boolean;
  // CONFIG_RETPOLINE (6.1) / CONFIG_MITIGATION_RETPOLINE (6.12).
  RETPOLINE: boolean;
  MODULE_ALLOW_BTF_MISMATCH: boolean;
}

export interface KernelRules {
  // Debian's module-disable-matching-missing-version-crc.patch: a symbol missing from
  // __versions is refused instead of accepted with a warning.
  missingCrcFatal: boolean;
  // 6.12.107 still has the single elf_validity_check(), which says "Only one ..." for any
  // this_module count but one; 6.12.118 has the elf_validity_cache_*() split ("Exactly one").
  thisModuleCountMessage: 'only-one' | 'exactly-one';
}

export interface KernelProfile {
  format: 'kmodsim-profile/1';
  release: string;
  series: Series;
  arch: Arch;
  // VERMAGIC_STRING of the kernel, exactly (Debian's has a trailing space on amd64).
  vermagic: string;
  config: KernelConfig;
  rules: KernelRules;
  structModuleSize: number;
  moduleLayoutCrc?: number;
  exports: Map<string, KernelExport>;
  // Modules built into the kernel (modules.builtin), by name.
  builtin: Set<string>;
  trustedSigners: TrustedSigner[];
  // Whether spectre_v2 mitigation is on (decides the retpoline warning); true on the CPUs
  // the oracle ran on.
  spectreV2Mitigated: boolean;
  // The vmlinux BTF that module BTF is checked against (CONFIG_DEBUG_INFO_BTF_MODULES), when
  // the profile was captured with the kernel image.
  vmlinuxBtf?: { types: number; stringsLength: number };
  // Where the profile came from, for reports.
  source: string;
  // The kernel's own module tree, when known: used to load dependencies first.
  modulesDir?: string;
}

export function seriesOf(release: string): Series | undefined {
  if (/^6\.1\./.test(release) || /^6\.1-/.test(release)) return '6.1';
  if (/^6\.12[.-]/.test(release)) return '6.12';
  return undefined;
}

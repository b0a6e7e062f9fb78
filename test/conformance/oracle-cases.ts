// Rebuilds the inputs of the oracle's proof runs from the Debian module trees that
// scripts/setup.sh fetches, so the recorded real-kernel results (recorded/*.json) can be
// replayed through the simulator without the oracle's files. Every mutation goes through
// scripts/ko-mutate.ts; compression uses the xz/gzip/zstd tools when present.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mutate, type Mutation } from '../../scripts/ko-mutate.js';

export const CACHE = process.env.KMODSIM_CACHE ?? path.join(os.homedir(), '.cache', 'kmodsim');
export const ROOT = path.join(CACHE, 'root');
export const REL61 = '6.1.0-57-amd64';
export const REL612 = '6.12.107+deb12-amd64';
export const modulesDirOf = (release: string) => path.join(ROOT, 'lib/modules', release);
export const headersDirOf = (release: string) =>
  path.join(ROOT, 'usr/src', `linux-headers-${release}`);

// Inputs that come from the oracle's own sample module, which only its scripts build.
export const SAMPLE_INPUTS = new Set(['ko/oracle_params.ko', 'ko/oracle_params-6.1.ko']);

export interface BuiltInputs {
  // The folder the cases' relative `ko/...` paths start from.
  baseDir: string;
  // Inputs that could not be made here, with the reason.
  missing: Map<string, string>;
}

const VM61 = 'mod_unload modversions ';

// xorshift32: the file only has to be the same on every run and fail the ELF magic check.
function pseudoRandom(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

function hasTool(tool: string): boolean {
  try {
    execFileSync(tool, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

class Builder {
  readonly missing = new Map<string, string>();
  constructor(readonly dir: string) {
    fs.mkdirSync(path.join(dir, 'ko'), { recursive: true });
  }

  write(name: string, bytes: Uint8Array) {
    fs.writeFileSync(path.join(this.dir, 'ko', name), bytes);
  }

  mut(name: string, from: Uint8Array, edits: Mutation[]) {
    this.write(name, mutate(from, edits));
  }

  // Runs a compressor on bytes; records the input as missing when the tool is absent.
  pipe(name: string, tool: string, args: string[], input: Uint8Array) {
    if (!hasTool(tool)) {
      this.missing.set(`ko/${name}`, `${tool} is not installed`);
      return;
    }
    this.write(name, new Uint8Array(execFileSync(tool, args, { input, maxBuffer: 1 << 28 })));
  }

  staticExec() {
    const name = 'static-exec.ko';
    if (!hasTool('gcc')) {
      this.missing.set(`ko/${name}`, 'gcc is not installed');
      return;
    }
    const src = path.join(this.dir, 'static-exec.c');
    fs.writeFileSync(src, 'int main(void) { return 0; }\n');
    try {
      // -no-pie: a PIE is ET_DYN, and the case is about ET_EXEC (type 2).
      execFileSync('gcc', ['-static', '-no-pie', '-O2', '-o', path.join(this.dir, 'ko', name),
        src], { stdio: 'ignore' });
    } catch (e) {
      this.missing.set(`ko/${name}`, `gcc -static failed: ${(e as Error).message}`);
    }
  }
}

const read = (file: string) => new Uint8Array(fs.readFileSync(file));

function xzDecompress(file: string): Uint8Array {
  return new Uint8Array(execFileSync('xz', ['-dc', file], { maxBuffer: 1 << 28 }));
}

// Inputs of the 6.1 proof runs (main, isolated, sequences, repeat, enforce).
export function buildInputs61(dir: string): BuiltInputs {
  const b = new Builder(dir);
  const m = path.join(modulesDirOf(REL61), 'kernel');
  const u = read(path.join(m, 'fs/nls/nls_utf8.ko'));
  const vm = (release: string, words = VM61) => `${release} SMP preempt ${words}`;
  const strip: Mutation = { op: 'strip-sig' };
  b.write('nls_utf8.ko', u);
  b.write('tcp_bic.ko', read(path.join(m, 'net/ipv4/tcp_bic.ko')));
  b.mut('u-ver-signed.ko', u, [{ op: 'set-vermagic', value: vm('6.1.0-99-amd64') }]);
  b.mut('u-ver.ko', u, [strip, { op: 'set-vermagic', value: vm('6.1.0-99-amd64') }]);
  const badWords = 'mod_unlXad modversions ';
  b.mut('u-magic-signed.ko', u, [{ op: 'set-vermagic', value: vm(REL61, badWords) }]);
  b.mut('u-magic.ko', u, [strip, { op: 'set-vermagic', value: vm(REL61, badWords) }]);
  b.mut('u-unsigned.ko', u, [strip]);
  b.mut('u-novermagic.ko', u, [strip, { op: 'del-modinfo', key: 'vermagic' }]);
  b.mut('u-emptyvermagic.ko', u, [strip, { op: 'set-modinfo', key: 'vermagic', value: '' }]);
  b.mut('u-noretpoline.ko', u, [strip, { op: 'del-modinfo', key: 'retpoline' }]);
  b.mut('u-nointree.ko', u, [strip, { op: 'del-modinfo', key: 'intree' }]);
  b.mut('u-proprietary.ko', u, [strip,
    { op: 'set-modinfo', key: 'license', value: 'Proprietary' }]);
  b.mut('u-nolicense.ko', u, [strip, { op: 'del-modinfo', key: 'license' }]);
  b.mut('vfat-unsigned.ko', read(path.join(m, 'fs/fat/vfat.ko')), [strip]);
  b.mut('u-crc-signed.ko', u, [{ op: 'bump-crc', symbol: '__register_nls' }]);
  b.mut('u-crc.ko', u, [strip, { op: 'bump-crc', symbol: '__register_nls' }]);
  b.mut('u-crc-layout.ko', u, [strip, { op: 'bump-crc', symbol: 'module_layout' }]);
  b.write('empty.ko', new Uint8Array());
  for (const n of [10, 64, 1000]) b.mut(`trunc-${n}.ko`, u, [{ op: 'truncate', length: n }]);
  b.mut('trunc-half.ko', u, [{ op: 'truncate', length: Math.floor(u.length / 2) }]);
  b.mut('trunc-sig-1.ko', u, [{ op: 'truncate', length: -1 }]);
  b.mut('trunc-nosig-1.ko', u, [strip, { op: 'truncate', length: -1 }]);
  b.write('text.ko', new TextEncoder().encode('this is not an ELF file\n'));
  b.write('random.ko', pseudoRandom(4096, 0x6b6d6f64));
  b.staticExec();
  b.mut('u-elfclass32-signed.ko', u, [{ op: 'set-byte', offset: 4, value: 1 }]);
  b.mut('u-elfclass32.ko', u, [strip, { op: 'set-byte', offset: 4, value: 1 }]);
  b.mut('u-badmachine.ko', u, [strip, { op: 'set-byte', offset: 18, value: 3 }]);
  b.pipe('nls_utf8.ko.xz', 'xz', ['-c'], u);
  b.pipe('nls_utf8.ko.gz', 'gzip', ['-c'], u);
  return { baseDir: dir, missing: b.missing };
}

// Inputs of the 6.12 proof runs; the shipped modules are .ko.xz.
export function buildInputs612(dir: string): BuiltInputs {
  const b = new Builder(dir);
  const m = path.join(modulesDirOf(REL612), 'kernel');
  const m61 = path.join(modulesDirOf(REL61), 'kernel');
  if (!hasTool('xz')) throw new Error('xz is needed to unpack the 6.12 modules');
  const uXz = read(path.join(m, 'fs/nls/nls_utf8.ko.xz'));
  const u = xzDecompress(path.join(m, 'fs/nls/nls_utf8.ko.xz'));
  const strip: Mutation = { op: 'strip-sig' };
  const vm = (release: string, words = VM61) => `${release} SMP preempt ${words}`;
  b.write('nls_utf8.ko.xz', uXz);
  b.write('nls_utf8.ko', u);
  b.write('tcp_bic.ko', xzDecompress(path.join(m, 'net/ipv4/tcp_bic.ko.xz')));
  b.write('tcp_bic.ko.xz', read(path.join(m, 'net/ipv4/tcp_bic.ko.xz')));
  const unsigned = mutate(u, [strip]);
  b.write('u-unsigned.ko', unsigned);
  b.mut('u-ver-signed.ko', u, [{ op: 'set-vermagic', value: vm('6.12.999+deb12-amd64') }]);
  b.mut('u-ver.ko', u, [strip, { op: 'set-vermagic', value: vm('6.12.999+deb12-amd64') }]);
  b.mut('u-magic.ko', u, [strip,
    { op: 'set-vermagic', value: vm(REL612, 'mod_unlXad modversions ') }]);
  b.mut('u-novermagic.ko', u, [strip, { op: 'del-modinfo', key: 'vermagic' }]);
  b.mut('u-crc.ko', u, [strip, { op: 'bump-crc', symbol: '__register_nls' }]);
  b.mut('u-crc-layout.ko', u, [strip, { op: 'bump-crc', symbol: 'module_layout' }]);
  b.mut('u-crc-signed.ko', u, [{ op: 'bump-crc', symbol: '__register_nls' }]);
  // The kernel's xz decoder knows CRC32 only: xz's default CRC64 check is status 6.
  b.pipe('u-unsigned.ko.xz', 'xz', ['-c'], unsigned);
  b.pipe('u-unsigned-kbuild.ko.xz', 'xz', ['--check=crc32', '--lzma2=dict=1MiB', '-c'],
    unsigned);
  b.pipe('u-unsigned-crc32.ko.xz', 'xz', ['--check=crc32', '-c'], unsigned);
  b.pipe('u-unsigned-crc64.ko.xz', 'xz', ['--check=crc64', '--lzma2=dict=1MiB', '-c'],
    unsigned);
  b.mut('trunc-1000.ko', u, [{ op: 'truncate', length: 1000 }]);
  b.mut('trunc-10.ko', u, [{ op: 'truncate', length: 10 }]);
  b.write('empty.ko', new Uint8Array());
  b.write('text.ko', new TextEncoder().encode('this is not an ELF file\n'));
  b.mut('trunc.ko.xz', uXz, [{ op: 'truncate', length: 200 }]);
  b.pipe('nls_utf8.ko.gz', 'gzip', ['-c'], u);
  b.pipe('nls_utf8.ko.zst', 'zstd', ['-q', '-c'], u);
  const u61 = read(path.join(m61, 'fs/nls/nls_utf8.ko'));
  b.write('nls_utf8-6.1.ko', u61);
  b.mut('nls_utf8-6.1-unsigned.ko', u61, [strip]);
  return { baseDir: dir, missing: b.missing };
}

export function haveTrees(): boolean {
  return [REL61, REL612].every((r) =>
    fs.existsSync(path.join(modulesDirOf(r), 'kernel')) && fs.existsSync(headersDirOf(r)));
}

// The module-signing certificates a kernel trusts at boot, recovered from its bzImage: the
// builtin keyring is filled from a blob compiled into vmlinux, so a distribution kernel ships
// its per-build key nowhere else. Also the crypto check the simulator runs with those keys.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
// Raw LZMA and LZMA2 come from @napi-rs/lzma (lzma-rs), not from liblzma's binding, which
// modules use (module/decompress.ts): node-liblzma exposes only liblzma's .xz stream decoder,
// with no raw (lzma_raw_decoder) or .lzma (lzma_alone_decoder) one, and a stream decoder
// fails on whatever follows the stream, while a scanned payload's end is not known. Loaded
// on first use: only a capture from a kernel image needs it, not every start of the CLI.
import type * as NapiLzma from '@napi-rs/lzma';
import { decompress as zstdDecompress } from 'fzstd';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { LZMA2_FILTER_ID, readLe32, readXzBlockHeader } from '../module/decompress';
import { formatName, OID_NAMES, readModuleSignature } from '../module/signature';

export type VmlinuxFormat = 'xz' | 'zstd' | 'gzip' | 'lzma' | 'lz4' | 'bzip2';

export type VmlinuxCertErrorCode =
  | 'bad-input'
  | 'io'
  | 'no-payload'
  | 'unsupported'
  | 'decompress'
  | 'not-elf'
  | 'no-certificates';

export class VmlinuxCertError {
  constructor(
    readonly code: VmlinuxCertErrorCode,
    readonly what: string,
  ) {}
}

export type ExtractResult =
  | {
      ok: true;
      vmlinux: Uint8Array;
      format: VmlinuxFormat;
      /** Offset of the compressed stream inside the bzImage. */
      payloadOffset: number;
      /** 'setup-header' when the boot protocol fields located it, 'scan' when magic did. */
      locatedBy: 'setup-header' | 'scan';
    }
  | { ok: false; error: VmlinuxCertError };

export interface KernelCertificate {
  /** RFC 4514 order, as signature.ts formats names: 'CN=...,O=...'. */
  subject: string;
  issuer: string;
  /** Lowercase hex of the serial's magnitude, no separators. */
  serialHex: string;
  subjectKeyIdHex?: string;
  pem: string;
  /** File offset inside the vmlinux the certificate was read from. */
  offset: number;
}

export type CertificatesResult =
  | {
      ok: true;
      certificates: KernelCertificate[];
      /** How the region was chosen: ELF symbols, System.map, the init data section or all. */
      locatedBy: 'symtab' | 'system-map' | 'section' | 'scan';
    }
  | { ok: false; error: VmlinuxCertError };

export interface FindCertificatesOptions {
  /** Text of a real System.map (Debian ships a placeholder; the -dbg package has the real one). */
  systemMap?: string;
}

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

// A guard against a false magic hit that claims an absurd size; real images are under 100 MB.
const MAX_VMLINUX = 1024 * 1024 * 1024;

const MAGICS: readonly { format: VmlinuxFormat; bytes: readonly number[] }[] = [
  { format: 'xz', bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { format: 'zstd', bytes: [0x28, 0xb5, 0x2f, 0xfd] },
  { format: 'gzip', bytes: [0x1f, 0x8b, 0x08] },
  // Kernel lzma streams: properties 0x5d and a 64 KiB-aligned dictionary size.
  { format: 'lzma', bytes: [0x5d, 0x00, 0x00] },
  { format: 'lz4', bytes: [0x02, 0x21, 0x4c, 0x18] },
  { format: 'bzip2', bytes: [0x42, 0x5a, 0x68] },
];

function matchesAt(b: Uint8Array, at: number, magic: readonly number[]): boolean {
  if (at < 0 || at + magic.length > b.length) return false;
  for (let i = 0; i < magic.length; i++) if (b[at + i] !== magic[i]) return false;
  return true;
}

function le16(b: Uint8Array, at: number): number {
  return b[at] | (b[at + 1] << 8);
}

function le64(b: Uint8Array, at: number): number {
  // Offsets and sizes in a vmlinux stay far below 2^53, so a double holds them exactly.
  return readLe32(b, at) + readLe32(b, at + 4) * 0x100000000;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function fail(code: VmlinuxCertErrorCode, what: string): { ok: false; error: VmlinuxCertError } {
  return { ok: false, error: new VmlinuxCertError(code, what) };
}

function formatAt(b: Uint8Array, at: number): VmlinuxFormat | undefined {
  return MAGICS.find((m) => matchesAt(b, at, m.bytes))?.format;
}

/**
 * The payload as the x86 boot protocol (2.08+) describes it: payload_offset is relative to the
 * protected-mode code, which follows the setup sectors. The build appends the uncompressed size
 * as a little-endian u32 to every compressed kernel, so the stream itself is 4 bytes shorter.
 */
function payloadFromSetupHeader(b: Uint8Array): { at: number; len: number } | undefined {
  if (b.length < 0x250 || !matchesAt(b, 0x202, [0x48, 0x64, 0x72, 0x53])) return undefined;
  if (le16(b, 0x206) < 0x208) return undefined;
  const setupSects = b[0x1f1] === 0 ? 4 : b[0x1f1];
  const at = (setupSects + 1) * 512 + readLe32(b, 0x248);
  const len = readLe32(b, 0x24c);
  if (len <= 4 || at + len > b.length) return undefined;
  return { at, len };
}

function isElf(b: Uint8Array): boolean {
  return matchesAt(b, 0, ELF_MAGIC);
}

/**
 * Finds and decompresses the vmlinux inside a bzImage. The setup header is asked first; when
 * it is absent or lies, every compression magic in the file is tried in turn, and the first
 * stream that decodes to an ELF wins. Never throws.
 */
export function extractVmlinux(bzImage: Uint8Array): ExtractResult {
  if (!(bzImage instanceof Uint8Array) || bzImage.length < 16) {
    return fail('bad-input', 'not a kernel image: too short');
  }
  const tried: string[] = [];
  const header = payloadFromSetupHeader(bzImage);
  if (header !== undefined) {
    const format = formatAt(bzImage, header.at);
    if (format !== undefined) {
      const stream = bzImage.subarray(header.at, header.at + header.len - 4);
      const expected = readLe32(bzImage, header.at + header.len - 4);
      const out = decode(format, stream, expected);
      if (out.ok && isElf(out.bytes)) {
        return {
          ok: true, vmlinux: out.bytes, format, payloadOffset: header.at, locatedBy: 'setup-header',
        };
      }
      tried.push(`${format}@${header.at}: ${out.ok ? 'not an ELF' : out.what}`);
    }
  }

  for (let at = 0; at < bzImage.length - 4; at++) {
    // One byte compare rules out nearly every offset before the per-format checks.
    const c = bzImage[at];
    if (c !== 0xfd && c !== 0x28 && c !== 0x1f && c !== 0x5d && c !== 0x02 && c !== 0x42) continue;
    const format = formatAt(bzImage, at);
    if (format === undefined || at === header?.at) continue;
    const out = decode(format, bzImage.subarray(at), undefined);
    if (out.ok && isElf(out.bytes)) {
      return { ok: true, vmlinux: out.bytes, format, payloadOffset: at, locatedBy: 'scan' };
    }
    if (tried.length < 8) tried.push(`${format}@${at}: ${out.ok ? 'not an ELF' : out.what}`);
  }
  if (tried.length === 0) return fail('no-payload', 'no compressed kernel payload found');
  return fail('decompress', `no payload decoded to an ELF (${tried.join('; ')})`);
}

type Decoded = { ok: true; bytes: Uint8Array } | { ok: false; what: string };

function decode(format: VmlinuxFormat, stream: Uint8Array, expected: number | undefined): Decoded {
  try {
    switch (format) {
      case 'xz':
        return decodeXz(stream);
      case 'zstd':
        return decodeZstd(stream, expected);
      case 'gzip':
        return { ok: true, bytes: zlib.gunzipSync(stream, { maxOutputLength: MAX_VMLINUX }) };
      case 'lzma':
        return decodeLzma(stream);
      case 'lz4':
      case 'bzip2':
        return { ok: false, what: `${format} kernels are not supported` };
    }
  } catch (e) {
    return { ok: false, what: `${format}: ${describe(e)}` };
  }
}

let napiLzma: typeof NapiLzma | undefined;

function rawLzma(): typeof NapiLzma {
  napiLzma ??= require('@napi-rs/lzma') as typeof NapiLzma;
  return napiLzma;
}

function decodeLzma(stream: Uint8Array): Decoded {
  // A dictionary size that is not a power of two or 2^n + 2^(n-1) is a false magic hit.
  const dict = stream.length >= 13 ? readLe32(stream, 1) : 0;
  const pow = dict === 0 ? 0 : 2 ** Math.floor(Math.log2(dict));
  if (dict < 4096 || (dict !== pow && dict !== pow + pow / 2)) {
    return { ok: false, what: 'lzma: implausible header' };
  }
  return { ok: true, bytes: rawLzma().lzma.decompressSync(stream) };
}

const XZ_FILTER_X86 = 0x04;

/**
 * The kernel's xz payload carries the x86 branch filter in front of LZMA2, which the xz
 * binding cannot decode. Its raw LZMA2 decoder can, so the first block's header is read here,
 * LZMA2 decodes the block data and the branch conversion is undone afterwards. The kernel
 * writes a single block, so only that one is decoded.
 */
function decodeXz(stream: Uint8Array): Decoded {
  if (stream.length < 24) return { ok: false, what: 'xz: truncated stream header' };
  if (zlib.crc32(stream.subarray(6, 8)) !== readLe32(stream, 8)) {
    return { ok: false, what: 'xz: stream header CRC mismatch' };
  }
  const header = readXzBlockHeader(stream, 12, stream.length);
  if (!header.ok) {
    return { ok: false, what: header.what === 'xz block header' ? 'xz: bad block header'
      : 'xz: bad filter flags' };
  }
  const { headerSize, filters } = header;
  const crcAt = 12 + headerSize - 4;
  if (zlib.crc32(stream.subarray(12, crcAt)) !== readLe32(stream, crcAt)) {
    return { ok: false, what: 'xz: block header CRC mismatch' };
  }
  const last = filters[filters.length - 1];
  const before = filters.slice(0, -1);
  if (last.id !== LZMA2_FILTER_ID || before.some((f) => f.id !== XZ_FILTER_X86)) {
    const ids = filters.map((f) => `0x${f.id.toString(16)}`).join(',');
    return { ok: false, what: `xz: unsupported filter chain ${ids}` };
  }
  const out = rawLzma().lzma2.decompressSync(stream.subarray(12 + headerSize));
  const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  for (const f of before) {
    const start = f.props.length === 4 ? readLe32(f.props, 0) : 0;
    undoX86BranchFilter(bytes, start);
  }
  return { ok: true, bytes };
}

/**
 * Reverses the xz x86 branch converter in place. The encoder rewrote the rel32 operand of
 * E8/E9 (CALL/JMP) into an absolute target when its top byte was 0x00 or 0xFF, so that equal
 * targets compress alike. `recent` remembers, bit per byte, which of the last three bytes were
 * E8/E9 opcodes that were left alone: an opcode byte that sits inside an earlier candidate's
 * operand is treated the way the encoder treated it, or the two would disagree on what was
 * converted.
 */
function undoX86BranchFilter(buf: Uint8Array, startOffset: number): void {
  // Indexed by `recent`: may a candidate still be converted, and which operand byte to test.
  const convertible = [true, true, true, false, true, false, false, false];
  const probeByte = [0, 1, 2, 2, 3, 3, 3, 3];
  const topByteSpecial = (v: number): boolean => v === 0x00 || v === 0xff;
  let recent = 0;
  let lastHit = -1;
  const end = buf.length - 4;
  for (let i = 0; i < end; i++) {
    if ((buf[i] & 0xfe) !== 0xe8) continue;
    const gap = i - lastHit;
    if (gap > 3) {
      recent = 0;
    } else {
      recent = (recent << (gap - 1)) & 7;
      if (recent !== 0) {
        const probe = buf[i + 4 - probeByte[recent]];
        if (!convertible[recent] || topByteSpecial(probe)) {
          lastHit = i;
          recent = (recent << 1) | 1;
          continue;
        }
      }
    }
    lastHit = i;
    if (!topByteSpecial(buf[i + 4])) {
      recent = (recent << 1) | 1;
      continue;
    }
    let value = readLe32(buf, i + 1);
    let rel: number;
    for (;;) {
      rel = (value - (startOffset + i + 5)) >>> 0;
      if (recent === 0) break;
      const bits = probeByte[recent] * 8;
      if (!topByteSpecial((rel >>> (24 - bits)) & 0xff)) break;
      value = (rel ^ (2 ** (32 - bits) - 1)) >>> 0;
    }
    // Bit 24 decides the sign of the 25-bit displacement; copy it into the top byte.
    rel &= 0x01ffffff;
    if (rel & 0x01000000) rel |= 0xff000000;
    buf[i + 1] = rel & 0xff;
    buf[i + 2] = (rel >>> 8) & 0xff;
    buf[i + 3] = (rel >>> 16) & 0xff;
    buf[i + 4] = (rel >>> 24) & 0xff;
    i += 4;
  }
}

/**
 * Where the first zstd frame ends, from its header and block headers alone, and the content
 * size if the header records it. fzstd rejects bytes after a frame and is many times slower
 * without an output buffer of the right size, so both are worked out before decoding.
 */
function zstdFrameExtent(b: Uint8Array): { end: number; contentSize?: number } | undefined {
  if (b.length < 6) return undefined;
  const fhd = b[4];
  const singleSegment = (fhd & 0x20) !== 0;
  const dictBytes = [0, 1, 2, 4][fhd & 3];
  const fcsBytes = [singleSegment ? 1 : 0, 2, 4, 8][fhd >>> 6];
  let at = 5 + (singleSegment ? 0 : 1) + dictBytes;
  let contentSize: number | undefined;
  if (fcsBytes === 1) contentSize = b[at];
  else if (fcsBytes === 2) contentSize = le16(b, at) + 256;
  else if (fcsBytes === 4) contentSize = readLe32(b, at);
  else if (fcsBytes === 8) contentSize = le64(b, at);
  at += fcsBytes;
  for (;;) {
    if (at + 3 > b.length) return undefined;
    const h = b[at] | (b[at + 1] << 8) | (b[at + 2] << 16);
    const type = (h >>> 1) & 3;
    if (type === 3) return undefined;
    at += 3 + (type === 1 ? 1 : h >>> 3);
    if (h & 1) break;
  }
  if (fhd & 0x04) at += 4;
  return at <= b.length ? { end: at, contentSize } : undefined;
}

function decodeZstd(stream: Uint8Array, expected: number | undefined): Decoded {
  const extent = zstdFrameExtent(stream);
  if (extent === undefined) return { ok: false, what: 'zstd: truncated or corrupt frame' };
  const frame = stream.subarray(0, extent.end);
  // Without a header size, the build's appended u32 right after the frame is the best guess.
  const size = extent.contentSize ?? expected ??
    (extent.end + 4 <= stream.length ? readLe32(stream, extent.end) : undefined);
  if (size !== undefined && size > 0 && size <= MAX_VMLINUX) {
    try {
      const out = zstdDecompress(frame, new Uint8Array(size));
      return { ok: true, bytes: out };
    } catch {
      // A wrong guess only costs the slow path below.
    }
  }
  return { ok: true, bytes: zstdDecompress(frame) };
}

// ---------------------------------------------------------------------------------------------
// Certificates

interface Section {
  name: string;
  type: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  entsize: number;
}

const SHT_SYMTAB = 2;
const SHT_NOBITS = 8;

/** Section headers of a little-endian ELF64, or undefined for anything else or a bad table. */
function elf64Sections(b: Uint8Array): Section[] | undefined {
  if (b.length < 64 || !isElf(b) || b[4] !== 2 || b[5] !== 1) return undefined;
  const shoff = le64(b, 0x28);
  const shentsize = le16(b, 0x3a);
  const shnum = le16(b, 0x3c);
  const shstrndx = le16(b, 0x3e);
  if (shentsize < 64 || shoff + shnum * shentsize > b.length || shstrndx >= shnum) {
    return undefined;
  }
  const raw: Section[] = [];
  const nameOffsets: number[] = [];
  for (let i = 0; i < shnum; i++) {
    const h = shoff + i * shentsize;
    nameOffsets.push(readLe32(b, h));
    raw.push({
      name: '',
      type: readLe32(b, h + 4),
      addr: le64(b, h + 16),
      offset: le64(b, h + 24),
      size: le64(b, h + 32),
      link: readLe32(b, h + 40),
      entsize: le64(b, h + 56),
    });
  }
  const strtab = raw[shstrndx];
  for (let i = 0; i < shnum; i++) raw[i].name = cString(b, strtab.offset + nameOffsets[i]);
  return raw;
}

function cString(b: Uint8Array, at: number): string {
  let end = at;
  while (end < b.length && b[end] !== 0) end++;
  return Buffer.from(b.buffer, b.byteOffset + at, end - at).toString('latin1');
}

function inFile(s: Section, b: Uint8Array): boolean {
  return s.type !== SHT_NOBITS && s.offset + s.size <= b.length;
}

/** File range of a virtual address span, through the section that holds it. */
function fileRange(
  sections: Section[], b: Uint8Array, addr: number, size: number,
): { start: number; end: number } | undefined {
  const s = sections.find((x) => x.addr !== 0 && addr >= x.addr && addr + size <= x.addr + x.size);
  if (s === undefined || !inFile(s, b)) return undefined;
  const start = s.offset + (addr - s.addr);
  return { start, end: start + size };
}

const LIST_SYMBOL = 'system_certificate_list';
const SIZE_SYMBOL = 'system_certificate_list_size';

/** The certificate blob through the symbol table, for an unstripped vmlinux. */
function regionFromSymtab(
  b: Uint8Array, sections: Section[],
): { start: number; end: number } | undefined {
  const symtab = sections.find((s) => s.type === SHT_SYMTAB && inFile(s, b));
  if (symtab === undefined || symtab.entsize < 24) return undefined;
  const strtab = sections[symtab.link];
  if (strtab === undefined || !inFile(strtab, b)) return undefined;
  const addrs = new Map<string, number>();
  for (let at = symtab.offset; at + 24 <= symtab.offset + symtab.size; at += symtab.entsize) {
    const nameOff = readLe32(b, at);
    if (b[strtab.offset + nameOff] !== 0x73) continue; // both names start with 's'
    const name = cString(b, strtab.offset + nameOff);
    if (name === LIST_SYMBOL || name === SIZE_SYMBOL) addrs.set(name, le64(b, at + 8));
  }
  return regionFromAddresses(b, sections, addrs.get(LIST_SYMBOL), addrs.get(SIZE_SYMBOL));
}

function regionFromSystemMap(
  b: Uint8Array, sections: Section[], map: string,
): { start: number; end: number } | undefined {
  const find = (sym: string): number | undefined => {
    const m = new RegExp(`^([0-9a-fA-F]{8,16}) \\S ${sym}$`, 'm').exec(map);
    return m ? Number.parseInt(m[1], 16) : undefined;
  };
  return regionFromAddresses(b, sections, find(LIST_SYMBOL), find(SIZE_SYMBOL));
}

function regionFromAddresses(
  b: Uint8Array, sections: Section[], list: number | undefined, sizeAt: number | undefined,
): { start: number; end: number } | undefined {
  if (list === undefined || sizeAt === undefined) return undefined;
  const sizeField = fileRange(sections, b, sizeAt, 8);
  if (sizeField === undefined) return undefined;
  const size = le64(b, sizeField.start);
  if (size === 0 || size > 64 * 1024 * 1024) return undefined;
  return fileRange(sections, b, list, size);
}

/**
 * Every DER X.509 certificate in the vmlinux's trusted-key blob. The blob is taken from the
 * symbol table or a System.map when either has it; Debian strips vmlinux and ships a
 * placeholder map, so then the init data section (where the blob is linked) is scanned, and
 * the whole file only if that finds nothing. Never throws.
 */
export function findCertificates(
  vmlinux: Uint8Array,
  options: FindCertificatesOptions = {},
): CertificatesResult {
  if (!(vmlinux instanceof Uint8Array)) return fail('bad-input', 'not a byte array');
  try {
    const sections = elf64Sections(vmlinux);
    if (sections !== undefined) {
      const viaSym = regionFromSymtab(vmlinux, sections);
      if (viaSym !== undefined) {
        return { ok: true, certificates: scanRange(vmlinux, viaSym), locatedBy: 'symtab' };
      }
      const viaMap = options.systemMap === undefined ? undefined
        : regionFromSystemMap(vmlinux, sections, options.systemMap);
      if (viaMap !== undefined) {
        return { ok: true, certificates: scanRange(vmlinux, viaMap), locatedBy: 'system-map' };
      }
      for (const s of sections.filter((x) => x.name === '.init.data' && inFile(x, vmlinux))) {
        const certs = scanRange(vmlinux, { start: s.offset, end: s.offset + s.size });
        if (certs.length > 0) return { ok: true, certificates: certs, locatedBy: 'section' };
      }
    }
    const certs = scanRange(vmlinux, { start: 0, end: vmlinux.length });
    if (certs.length === 0) return fail('no-certificates', 'no X.509 certificate in the image');
    return { ok: true, certificates: certs, locatedBy: 'scan' };
  } catch (e) {
    return fail('bad-input', `certificate scan failed: ${describe(e)}`);
  }
}

/**
 * Candidates must look like `SEQUENCE(long form) { SEQUENCE(long form) { [0] or INTEGER` with
 * lengths that nest and fit, which leaves a handful of offsets in tens of megabytes for pkijs.
 */
function scanRange(b: Uint8Array, range: { start: number; end: number }): KernelCertificate[] {
  const found: KernelCertificate[] = [];
  const seen = new Set<string>();
  const end = Math.min(range.end, b.length);
  for (let i = range.start; i + 12 <= end; i++) {
    if (b[i] !== 0x30 || b[i + 1] !== 0x82 || b[i + 4] !== 0x30 || b[i + 5] !== 0x82) continue;
    const outer = (b[i + 2] << 8) | b[i + 3];
    const inner = (b[i + 6] << 8) | b[i + 7];
    if (outer < 256 || i + 4 + outer > end || inner + 4 > outer) continue;
    if (b[i + 8] !== 0xa0 && b[i + 8] !== 0x02) continue;
    const der = b.subarray(i, i + 4 + outer);
    const cert = describeCertificate(der, i);
    if (cert === undefined) continue;
    if (!seen.has(cert.pem)) {
      seen.add(cert.pem);
      found.push(cert);
    }
    i += 3 + outer;
  }
  return found;
}

const OID_SKID = '2.5.29.14';

function lowerHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function describeCertificate(der: Uint8Array, offset: number): KernelCertificate | undefined {
  try {
    const asn = asn1js.fromBER(der);
    if (asn.offset !== der.length) return undefined;
    const cert = new pkijs.Certificate({ schema: asn.result });
    const serialRaw = cert.serialNumber.valueBlock.valueHexView;
    let z = 0;
    while (z < serialRaw.length - 1 && serialRaw[z] === 0) z++;
    const result: KernelCertificate = {
      subject: formatName(cert.subject),
      issuer: formatName(cert.issuer),
      serialHex: lowerHex(serialRaw.subarray(z)),
      pem: toPem(der),
      offset,
    };
    const skid = cert.extensions?.find((e) => e.extnID === OID_SKID);
    if (skid !== undefined) {
      const inner = asn1js.fromBER(skid.extnValue.valueBlock.valueHexView);
      if (inner.offset !== -1 && inner.result instanceof asn1js.OctetString) {
        result.subjectKeyIdHex = lowerHex(inner.result.valueBlock.valueHexView);
      }
    }
    return result;
  } catch {
    return undefined;
  }
}

function toPem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

/** `$root/boot/vmlinuz-<release>`, where a dpkg -x of linux-image puts the kernel. */
export function vmlinuzPath(root: string, release: string): string {
  return path.join(root, 'boot', `vmlinuz-${release}`);
}

export type TrustedSignersResult =
  | {
      ok: true;
      certificates: KernelCertificate[];
      format: VmlinuxFormat;
      locatedBy: 'symtab' | 'system-map' | 'section' | 'scan';
      /** Wall time of decompression and of the certificate search, in milliseconds. */
      timings: { extractMs: number; scanMs: number };
    }
  | { ok: false; error: VmlinuxCertError };

/** Reads a vmlinuz (see `vmlinuzPath`) and returns the certificates built into it. */
export function trustedSignersFromImage(
  imagePath: string,
  options: FindCertificatesOptions = {},
): TrustedSignersResult {
  let image: Uint8Array;
  try {
    image = fs.readFileSync(imagePath);
  } catch (e) {
    return fail('io', `cannot read ${imagePath}: ${describe(e)}`);
  }
  const t0 = performance.now();
  const extracted = extractVmlinux(image);
  if (!extracted.ok) return extracted;
  const t1 = performance.now();
  const found = findCertificates(extracted.vmlinux, options);
  if (!found.ok) return found;
  const t2 = performance.now();
  return {
    ok: true,
    certificates: found.certificates,
    format: extracted.format,
    locatedBy: found.locatedBy,
    timings: { extractMs: Math.round(t1 - t0), scanMs: Math.round(t2 - t1) },
  };
}

// ---------------------------------------------------------------------------------------------
// Signature verification

export interface ModuleSignatureCheck {
  /** A supplied certificate is the one the SignerInfo names (issuer+serial or SKID). */
  signerMatched: boolean;
  /** The signature verifies over the ELF bytes with that certificate's key. */
  valid: boolean;
  error?: string;
}

/** Splits `ELF || PKCS#7 || module_signature || marker`; undefined when there is no signature. */
export function splitSignedModule(
  bytes: Uint8Array,
): { elf: Uint8Array; pkcs7: Uint8Array } | undefined {
  const sig = readModuleSignature(bytes);
  if (!sig.present || sig.elfLength === 0) return undefined;
  return {
    elf: bytes.subarray(0, sig.elfLength),
    pkcs7: bytes.subarray(sig.elfLength, sig.elfLength + sig.sigLength),
  };
}

const OID_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';

interface CandidateKey {
  issuer: string;
  serialHex: string;
  subjectKeyIdHex?: string;
  key: crypto.KeyObject;
}

function candidateKey(pem: string): CandidateKey | undefined {
  try {
    const x = new crypto.X509Certificate(pem);
    const info = describeCertificate(new Uint8Array(x.raw), 0);
    if (info === undefined) return undefined;
    return {
      issuer: info.issuer,
      serialHex: info.serialHex,
      subjectKeyIdHex: info.subjectKeyIdHex,
      key: x.publicKey,
    };
  } catch {
    return undefined;
  }
}

function sidMatches(signer: pkijs.SignerInfo, key: CandidateKey): boolean {
  const sid: unknown = signer.sid;
  if (sid instanceof pkijs.IssuerAndSerialNumber) {
    const raw = sid.serialNumber.valueBlock.valueHexView;
    let z = 0;
    while (z < raw.length - 1 && raw[z] === 0) z++;
    return formatName(sid.issuer) === key.issuer && lowerHex(raw.subarray(z)) === key.serialHex;
  }
  // A SubjectKeyIdentifier sid is an implicitly tagged [0] OCTET STRING.
  const block = (sid as { valueBlock?: { valueHexView?: Uint8Array } }).valueBlock;
  const skid = block?.valueHexView;
  return skid !== undefined && skid.length > 0 && lowerHex(skid) === key.subjectKeyIdHex;
}

/**
 * Checks a module's PKCS#7 signature the way the kernel's crypto does: find the certificate
 * the SignerInfo names, then verify. Without signed attributes the signature is over the
 * content's digest; with them, over the attribute set, whose messageDigest must match. Never
 * throws.
 */
export function verifyModuleSignature(
  elfBytes: Uint8Array,
  pkcs7Der: Uint8Array,
  certsPem: readonly string[],
): ModuleSignatureCheck {
  let signer: pkijs.SignerInfo;
  try {
    const asn = asn1js.fromBER(pkcs7Der);
    if (asn.offset === -1) return { signerMatched: false, valid: false, error: 'malformed PKCS#7' };
    const info = new pkijs.ContentInfo({ schema: asn.result });
    if (info.contentType !== pkijs.ContentInfo.SIGNED_DATA) {
      return { signerMatched: false, valid: false, error: 'PKCS#7 is not signedData' };
    }
    const signed = new pkijs.SignedData({ schema: info.content });
    const first = signed.signerInfos[0];
    if (first === undefined) return { signerMatched: false, valid: false, error: 'no SignerInfo' };
    signer = first;
  } catch (e) {
    return { signerMatched: false, valid: false, error: `PKCS#7: ${describe(e)}` };
  }

  const key = certsPem.map(candidateKey).find((k) => k !== undefined && sidMatches(signer, k));
  if (key === undefined) {
    return { signerMatched: false, valid: false, error: 'no certificate matches the signer' };
  }
  const digest = OID_NAMES[signer.digestAlgorithm.algorithmId];
  if (digest === undefined) {
    const oid = signer.digestAlgorithm.algorithmId;
    return { signerMatched: true, valid: false, error: `unsupported digest ${oid}` };
  }
  try {
    const signature = signer.signature.valueBlock.valueHexView;
    let signedBytes: Uint8Array = elfBytes;
    if (signer.signedAttrs !== undefined) {
      const md = signer.signedAttrs.attributes.find((a) => a.type === OID_MESSAGE_DIGEST);
      const want = (md?.values[0] as asn1js.OctetString | undefined)?.valueBlock.valueHexView;
      const have = crypto.createHash(digest).update(elfBytes).digest();
      if (want === undefined || !have.equals(Buffer.from(want))) {
        return { signerMatched: true, valid: false, error: 'messageDigest does not match' };
      }
      // The attributes are signed as a SET, not as the [0] they are stored under.
      const set = new asn1js.Set({ value: signer.signedAttrs.attributes.map((a) => a.toSchema()) });
      signedBytes = new Uint8Array(set.toBER(false));
    }
    const valid = crypto.verify(digest, signedBytes, key.key, signature);
    return valid ? { signerMatched: true, valid } : {
      signerMatched: true, valid, error: 'signature does not match the signed content',
    };
  } catch (e) {
    return { signerMatched: true, valid: false, error: `verify: ${describe(e)}` };
  }
}

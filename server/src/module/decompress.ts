// Compressed module images (.ko.xz, .ko.gz, .ko.zst): format detection, decompression with a
// size guard, and a model of what the kernel's own in-kernel decompressor says about a file.
import * as zlib from 'node:zlib';
import type * as Liblzma from 'node-liblzma';
import { Decompress as ZstdDecompress } from 'fzstd';
import { EINVAL, EOPNOTSUPP } from '../load/errno';
import { KERN_ERR, KernelLine, line } from '../load/kmsg';
import { ScratchBuffer } from './scratch';

export type CompressionKind = 'none' | 'xz' | 'gzip' | 'zstd';

/** The integrity check an xz stream declares in its stream flags. */
export type XzCheck = 'none' | 'crc32' | 'crc64' | 'sha256';

export type DecompressErrorCode =
  | 'truncated'
  | 'corrupt'
  | 'too-large'
  | 'unsupported'
  // kmodsim's decoder cannot run here (not the stream's fault, nor kmod's verdict).
  | 'unavailable'
  | 'bad-magic';

export class DecompressError {
  constructor(
    readonly code: DecompressErrorCode,
    readonly what: string,
    readonly offset?: number,
  ) {}
}

export type DecompressResult =
  | { ok: true; bytes: Uint8Array; xzCheck?: XzCheck }
  | { ok: false; error: DecompressError };

export interface DecompressOptions {
  /** Refuse to produce more than this many bytes. Default 1 GiB. */
  maxOutput?: number;
  /** Where an xz stream is decoded to; without it, a fresh buffer per module. */
  into?: ScratchBuffer;
}

const DEFAULT_MAX_OUTPUT = 1024 * 1024 * 1024;

const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const XZ_FOOTER_MAGIC = [0x59, 0x5a];
const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

const XZ_HEADER_SIZE = 12;
const XZ_FOOTER_SIZE = 12;

function startsWith(bytes: Uint8Array, magic: readonly number[], at = 0): boolean {
  if (bytes.length < at + magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (bytes[at + i] !== magic[i]) return false;
  return true;
}

/** Recognises the container by its leading magic bytes; anything else is 'none'. */
export function detectCompression(bytes: Uint8Array): CompressionKind {
  if (startsWith(bytes, XZ_MAGIC)) return 'xz';
  if (startsWith(bytes, ZSTD_MAGIC)) return 'zstd';
  if (startsWith(bytes, GZIP_MAGIC)) return 'gzip';
  return 'none';
}

export type XzHeaderResult =
  | { ok: true; checkId: number; check: XzCheck | undefined }
  | { ok: false; error: DecompressError };

/**
 * Reads the 12-byte xz stream header. `check` is undefined for check ids the xz format reserves
 * (they exist, but no encoder writes them).
 */
export function readXzStreamHeader(bytes: Uint8Array): XzHeaderResult {
  if (!startsWith(bytes, XZ_MAGIC)) {
    return { ok: false, error: new DecompressError('bad-magic', 'not an xz stream', 0) };
  }
  if (bytes.length < XZ_HEADER_SIZE) {
    const what = `xz stream header needs ${XZ_HEADER_SIZE} bytes, file has ${bytes.length}`;
    return { ok: false, error: new DecompressError('truncated', what, bytes.length) };
  }

  const flags = bytes.subarray(6, 8);
  const stored = readLe32(bytes, 8);
  if (zlib.crc32(flags) !== stored) {
    return { ok: false, error: new DecompressError('corrupt', 'xz stream header CRC32', 8) };
  }
  if (flags[0] !== 0 || (flags[1] & 0xf0) !== 0) {
    const what = `xz stream flags 0x${hex2(flags[0])}${hex2(flags[1])} use reserved bits`;
    return { ok: false, error: new DecompressError('unsupported', what, 6) };
  }

  const checkId = flags[1] & 0x0f;
  return { ok: true, checkId, check: xzCheckName(checkId) };
}

function xzCheckName(id: number): XzCheck | undefined {
  switch (id) {
    case 0x0:
      return 'none';
    case 0x1:
      return 'crc32';
    case 0x4:
      return 'crc64';
    case 0xa:
      return 'sha256';
    default:
      return undefined;
  }
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

export function readLe32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
}

/** Decompresses a module image of the given kind, never producing more than `maxOutput`. */
export function decompressModule(
  bytes: Uint8Array,
  kind: CompressionKind,
  options: DecompressOptions = {},
): DecompressResult {
  const maxOutput = options.maxOutput ?? DEFAULT_MAX_OUTPUT;
  try {
    switch (kind) {
      case 'none':
        return { ok: true, bytes };
      case 'xz':
        return decompressXz(bytes, maxOutput, options.into);
      case 'gzip':
        return decompressGzip(bytes, maxOutput);
      case 'zstd':
        return decompressZstd(bytes, maxOutput);
      default:
        return fail('unsupported', `unknown compression kind ${String(kind)}`);
    }
  } catch (e) {
    // Library bugs must not escape as exceptions; report them as a corrupt stream.
    return fail('corrupt', `decompressor failed: ${describe(e)}`);
  }
}

function fail(code: DecompressErrorCode, what: string, offset?: number): DecompressResult {
  return { ok: false, error: new DecompressError(code, what, offset) };
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function tooLarge(size: number, maxOutput: number): DecompressResult {
  return fail('too-large', `decompressed size ${size} exceeds the limit of ${maxOutput} bytes`);
}

function decompressXz(bytes: Uint8Array, maxOutput: number, into?: ScratchBuffer):
  DecompressResult {
  const header = readXzStreamHeader(bytes);
  if (!header.ok) return header;

  // The xz binding has no output limit, so the size comes from the stream indexes before any
  // decoding. liblzma then checks the real output against those same indexes.
  const declared = xzDeclaredSize(bytes);
  if (!declared.ok) return declared;
  if (declared.size > maxOutput) return tooLarge(declared.size, maxOutput);

  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // One byte more than declared: a stream that decodes to more than its index says is then
  // seen as such instead of ending exactly at the buffer's end.
  const out = into ? into.take(declared.size + 1) : Buffer.allocUnsafeSlow(declared.size + 1);
  const lib = loadLiblzma();
  if (typeof lib === 'string') return fail('unavailable', lib);
  const r = liblzmaDecode(lib, input, out);
  if (r.status !== LZMA_STREAM_END) return liblzmaFailure(r, input.length);
  if (r.produced !== declared.size) {
    return fail('corrupt', `xz: the stream decodes to ${r.produced} bytes, its index says ` +
      `${declared.size}`);
  }
  return { ok: true, bytes: out.subarray(0, r.produced), xzCheck: header.check };
}

interface LiblzmaRun { status: number; consumed: number; produced: number }

// node-liblzma is loaded with the first .ko.xz: an ES module with a native part, its loading
// was a tenth of the CLI's start, and a tree of plain .ko never needs it. A runtime that
// cannot load it (require() of an ES module needs Node 20.19; the binding is built by npm ci)
// gets that said, not a corrupt stream.
let liblzma: typeof Liblzma | string | undefined;

function loadLiblzma(): typeof Liblzma | string {
  if (liblzma === undefined) {
    try {
      liblzma = require('node-liblzma') as typeof Liblzma;
    } catch (e) {
      liblzma = `xz: liblzma's binding (node-liblzma) cannot be loaded by node ` +
        `${process.version}: ${describe(e).split('\n')[0]}`;
    }
  }
  return liblzma;
}

// node-liblzma's stream decoder (lzma_stream_decoder with LZMA_CONCATENATED), run once over
// the whole input into a buffer sized from the index. The binding's own unxzSync decodes into
// a zero-filled buffer and copies it into another, twice the memory traffic of the decoding
// itself on a tree of modules. The native object is the stream's `lzma` (declared protected
// in the package's lib/lzma.d.ts, its type NativeLZMA exported); the decompress tests fail if
// a new version of the binding moves it.
function liblzmaDecode(lib: typeof Liblzma, input: Buffer, out: Buffer): LiblzmaRun {
  const stream = new lib.Unxz({ chunkSize: 1 });
  const native = (stream as unknown as { lzma: Liblzma.NativeLZMA }).lzma;
  try {
    const [status, availIn, availOut] = native.codeSync(lib.LZMA_FINISH, input, 0,
      input.length, out, 0);
    return { status, consumed: input.length - availIn, produced: out.length - availOut };
  } finally {
    native.close();
  }
}

// lzma_ret values liblzma reports (lzma/base.h), by what they mean for a module file.
const LZMA_STREAM_END = 1;
const LZMA_MEM_ERROR = 5;
const LZMA_MEMLIMIT_ERROR = 6;
const LZMA_FORMAT_ERROR = 7;
const LZMA_OPTIONS_ERROR = 8;
const LZMA_DATA_ERROR = 9;
const LZMA_BUF_ERROR = 10;

/**
 * Names liblzma's verdict. A stream cut short gets the end of the data as its offset; a
 * damaged one the offset of the last byte liblzma had read when it noticed (a check is
 * compared once its last byte is in; damaged LZMA data shows some bytes after the damage).
 */
function liblzmaFailure(r: LiblzmaRun, length: number): DecompressResult {
  const at = Math.max(0, r.consumed - 1);
  const damaged = (code: DecompressErrorCode, what: string): DecompressResult =>
    fail(code, `xz: liblzma: ${what}, noticed at offset ${at}`, at);
  switch (r.status) {
    case LZMA_BUF_ERROR:
      return fail('truncated', 'xz: liblzma: the data ends inside the stream (LZMA_BUF_ERROR)',
        length);
    case LZMA_DATA_ERROR:
      return damaged('corrupt', 'data is corrupt (LZMA_DATA_ERROR): the compressed data or a ' +
        'block\'s integrity check does not match');
    case LZMA_FORMAT_ERROR:
      return damaged('corrupt', 'file format not recognized (LZMA_FORMAT_ERROR)');
    case LZMA_OPTIONS_ERROR:
      return damaged('unsupported', 'unsupported filter or block options (LZMA_OPTIONS_ERROR)');
    case LZMA_MEM_ERROR:
    case LZMA_MEMLIMIT_ERROR:
      return fail('too-large', 'xz: liblzma cannot allocate the dictionary the stream asks for');
    default:
      // LZMA_OK with the output full: more data than the index declares, which the walk over
      // the LZMA2 chunk headers (xzDeclaredSize) should already have refused.
      return r.produced > 0 && r.consumed < length
        ? fail('corrupt', 'xz: the stream decodes to more bytes than its index says', at)
        : damaged('corrupt', `liblzma returned ${r.status}`);
  }
}

type SizeResult = { ok: true; size: number } | { ok: false; error: DecompressError };

/**
 * Sums the uncompressed sizes recorded in the index of every stream, walking back from the end
 * of the file over stream padding and footers.
 */
export function xzDeclaredSize(bytes: Uint8Array): SizeResult {
  let end = bytes.length;
  let total = 0;

  while (end > 0) {
    // Stream padding is a multiple of four zero bytes.
    let padEnd = end;
    while (padEnd >= 4 && readLe32(bytes, padEnd - 4) === 0) padEnd -= 4;
    if (padEnd === 0) break;
    end = padEnd;

    const stream = xzStreamFromFooter(bytes, end);
    if (!stream.ok) return stream;
    total += stream.uncompressed;
    end = stream.start;
  }
  return { ok: true, size: total };
}

type StreamResult =
  | { ok: true; start: number; uncompressed: number }
  | { ok: false; error: DecompressError };

function xzStreamFromFooter(bytes: Uint8Array, end: number): StreamResult {
  const footer = end - XZ_FOOTER_SIZE;
  const truncated = (what: string): StreamResult => ({
    ok: false,
    error: new DecompressError('truncated', what, end),
  });
  if (footer < XZ_HEADER_SIZE || !startsWith(bytes, XZ_FOOTER_MAGIC, end - 2)) {
    return truncated(`no xz stream footer (magic YZ) in the last bytes before offset ${end}: ` +
      'the stream is cut short, or other bytes follow it');
  }
  if (zlib.crc32(bytes.subarray(footer + 4, footer + 10)) !== readLe32(bytes, footer)) {
    return {
      ok: false,
      error: new DecompressError('corrupt', 'xz stream footer CRC32', footer),
    };
  }

  const indexSize = (readLe32(bytes, footer + 4) + 1) * 4;
  const indexStart = footer - indexSize;
  if (indexStart < XZ_HEADER_SIZE || bytes[indexStart] !== 0) {
    return truncated(`xz index of ${indexSize} bytes does not fit before offset ${footer}`);
  }

  const records = readXzIndex(bytes, indexStart, footer);
  if (!records.ok) return records;

  const start = indexStart - records.blocksSize - XZ_HEADER_SIZE;
  if (start < 0 || !startsWith(bytes, XZ_MAGIC, start)) {
    return truncated(`xz index describes blocks that start before the data (offset ${start})`);
  }

  // The index is only a claim: the decoder writes whatever the blocks hold and compares with
  // the index at the very end. Sizing the blocks from their LZMA2 chunk headers first keeps a
  // stream whose index lies from expanding (about 7,000:1 for zeros) before it is refused.
  const held = xzBlocksHold(bytes, start + XZ_HEADER_SIZE, indexStart, bytes[start + 7] & 0xf);
  if (!held.ok) return held;
  if (held.size !== records.uncompressed) {
    return {
      ok: false,
      error: new DecompressError('corrupt', `xz index says ${records.uncompressed} bytes but ` +
        `the blocks' LZMA2 chunks hold ${held.size}`, indexStart),
    };
  }
  return { ok: true, start, uncompressed: records.uncompressed };
}

// Bytes of the check field after each block, by check id (xz format 2.1.1.2: groups of three).
const XZ_CHECK_SIZE = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64];
export const LZMA2_FILTER_ID = 0x21;

export interface XzFilter { id: number; props: Uint8Array }

export type XzBlockHeader =
  | { ok: true; headerSize: number; filters: XzFilter[] }
  | { ok: false; what: string; at: number };

/**
 * The block header at `at` (xz format 3.1): its size and filter chain. The optional sizes are
 * skipped; the header's CRC32 is not checked here. Nothing is read at or past `limit`.
 */
export function readXzBlockHeader(bytes: Uint8Array, at: number, limit: number): XzBlockHeader {
  const headerSize = (bytes[at] + 1) * 4;
  if (at >= limit || bytes[at] === 0 || at + headerSize > limit) {
    return { ok: false, what: 'xz block header', at };
  }
  // The filter flags end before the CRC32 that closes the header.
  const end = at + headerSize - 4;
  const flags = bytes[at + 1];
  let pos = at + 2;
  const vli = (): number => {
    let value = 0;
    for (let shift = 0; shift < 63 && pos < end; shift += 7) {
      const b = bytes[pos++];
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
    }
    return -1;
  };
  if (flags & 0x40) vli();
  if (flags & 0x80) vli();
  const filters: XzFilter[] = [];
  for (let n = (flags & 3) + 1; n > 0; n--) {
    const id = vli();
    const propsSize = vli();
    if (id < 0 || propsSize < 0 || pos + propsSize > end) {
      return { ok: false, what: 'xz block filter flags', at: pos };
    }
    filters.push({ id, props: bytes.subarray(pos, pos + propsSize) });
    pos += propsSize;
  }
  return { ok: true, headerSize, filters };
}

/**
 * What the blocks in [from, to) decode to, from the unpacked size of every LZMA2 chunk. The
 * filters before LZMA2 (BCJ, delta) do not change the size. Reads headers only.
 */
function xzBlocksHold(bytes: Uint8Array, from: number, to: number, checkId: number): SizeResult {
  const bad = (what: string, at: number): SizeResult =>
    ({ ok: false, error: new DecompressError('corrupt', what, at) });
  let total = 0;
  let at = from;
  while (at < to) {
    const block = at;
    const header = readXzBlockHeader(bytes, block, to);
    if (!header.ok) return bad(header.what, header.at);
    if (header.filters[header.filters.length - 1].id !== LZMA2_FILTER_ID) {
      return bad('xz block does not end in LZMA2', block);
    }

    at = block + header.headerSize;
    for (;;) {
      if (at >= to) return bad('xz LZMA2 chunks run into the index', at);
      const control = bytes[at];
      if (control === 0) break;
      if (at + 3 > to) return bad('xz LZMA2 chunk header', at);
      if (control === 1 || control === 2) {
        const size = (bytes[at + 1] << 8 | bytes[at + 2]) + 1;
        total += size;
        at += 3 + size;
      } else if (control >= 0x80) {
        if (at + 5 > to) return bad('xz LZMA2 chunk header', at);
        total += ((control & 0x1f) << 16 | bytes[at + 1] << 8 | bytes[at + 2]) + 1;
        at += (control >= 0xc0 ? 6 : 5) + (bytes[at + 3] << 8 | bytes[at + 4]) + 1;
      } else {
        return bad(`xz LZMA2 chunk control byte 0x${hex2(control)}`, at);
      }
    }
    at += 1;
    at += (4 - ((at - block) % 4)) % 4;
    at += XZ_CHECK_SIZE[checkId];
  }
  return { ok: true, size: total };
}

type IndexResult =
  | { ok: true; blocksSize: number; uncompressed: number }
  | { ok: false; error: DecompressError };

function readXzIndex(bytes: Uint8Array, start: number, end: number): IndexResult {
  const bad = (what: string, offset: number): IndexResult => ({
    ok: false,
    error: new DecompressError('corrupt', what, offset),
  });
  let pos = start + 1;
  const readVli = (): number | undefined => {
    let value = 0;
    for (let shift = 0; shift < 63 && pos < end; shift += 7) {
      const b = bytes[pos++];
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
    }
    return undefined;
  };

  const count = readVli();
  if (count === undefined) return bad('xz index record count', pos);
  let blocksSize = 0;
  let uncompressed = 0;
  for (let i = 0; i < count; i++) {
    const unpadded = readVli();
    const size = readVli();
    if (unpadded === undefined || size === undefined) return bad(`xz index record ${i}`, pos);
    blocksSize += Math.ceil(unpadded / 4) * 4;
    uncompressed += size;
  }
  return { ok: true, blocksSize, uncompressed };
}

function decompressGzip(bytes: Uint8Array, maxOutput: number): DecompressResult {
  try {
    return { ok: true, bytes: zlib.gunzipSync(bytes, { maxOutputLength: maxOutput }) };
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') return tooLarge(maxOutput + 1, maxOutput);
    if (code === 'Z_BUF_ERROR') return fail('truncated', `gzip: ${describe(e)}`, bytes.length);
    return fail('corrupt', `gzip: ${describe(e)}`);
  }
}

const ZSTD_UNEXPECTED_EOF = 5;

class OutputLimitReached {}

// fzstd does not verify a frame's XXH64 content checksum: damage inside compressed literals can
// decode "successfully" to wrong bytes. Structural damage and truncation are still caught.
function decompressZstd(bytes: Uint8Array, maxOutput: number): DecompressResult {
  const { asked, bound } = zstdFrameSizes(bytes);
  if (asked > maxOutput) {
    return fail('too-large', `zstd frame header asks for a ${asked}-byte buffer, beyond the ` +
      `limit of ${maxOutput} bytes`, 4);
  }
  if (bound > maxOutput) {
    return fail('too-large', `zstd blocks decompress to up to ${bound} bytes, beyond the ` +
      `limit of ${maxOutput} bytes`, 4);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  let finished = false;
  const stream = new ZstdDecompress((chunk, final) => {
    size += chunk.length;
    // Throwing is the only way to stop fzstd mid-frame; it is caught just below.
    if (size > maxOutput) throw new OutputLimitReached();
    chunks.push(chunk);
    if (final) finished = true;
  });
  try {
    stream.push(bytes, true);
  } catch (e) {
    if (e instanceof OutputLimitReached) return tooLarge(size, maxOutput);
    if ((e as { code?: number }).code === ZSTD_UNEXPECTED_EOF) {
      return fail('truncated', `zstd: ${describe(e)}`, bytes.length);
    }
    return fail('corrupt', `zstd: ${describe(e)}`);
  }
  if (!finished && chunks.length === 0) return fail('truncated', 'zstd: no frame', bytes.length);

  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return { ok: true, bytes: out };
}

// fzstd's streaming decoder allocates, on reading a frame header, the frame's window (for a
// single-segment frame, its declared content size) before writing any output, whatever the
// content size says: 17 bytes can ask for 2 GiB. So the frame headers are read first, walking
// blocks by their sizes. Stops quietly where the walk fails: the decoder then reports that
// damage itself. The same walk bounds the output: a raw or RLE block regenerates the size its
// header says, a compressed one at most Block_Maximum_Size (the window, capped at 128 KiB), so
// a small file of many blocks of zeros is refused before 1 GiB is written.
function zstdFrameSizes(bytes: Uint8Array): { asked: number; bound: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let largest = 0;
  let bound = 0;
  let at = 0;
  while (at + 8 <= bytes.length) {
    const magic = view.getUint32(at, true);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      at += 8 + view.getUint32(at + 4, true);
      continue;
    }
    if (magic !== 0xfd2fb528) break;
    const fhd = bytes[at + 4];
    const single = (fhd & 0x20) !== 0;
    const fcsFlag = fhd >> 6;
    let pos = at + 5;
    let window = 0;
    if (!single) {
      const wd = bytes[pos++];
      const base = 2 ** (10 + (wd >> 3));
      window = base + (base / 8) * (wd & 7);
    }
    pos += [0, 1, 2, 4][fhd & 3];
    const fcsSize = [single ? 1 : 0, 2, 4, 8][fcsFlag];
    if (pos + fcsSize > bytes.length) break;
    let content = 0;
    for (let i = fcsSize - 1; i >= 0; i--) content = content * 256 + bytes[pos + i];
    if (fcsFlag === 1) content += 256;
    pos += fcsSize;
    largest = Math.max(largest, single ? content : window);
    const blockMax = Math.min(single ? content : window, 128 * 1024);

    for (;;) {
      if (pos + 3 > bytes.length) return { asked: largest, bound };
      const header = bytes[pos] | (bytes[pos + 1] << 8) | (bytes[pos + 2] << 16);
      const type = (header >> 1) & 3;
      if (type === 3) return { asked: largest, bound };
      bound += type === 2 ? blockMax : header >>> 3;
      pos += 3 + (type === 1 ? 1 : header >>> 3);
      if (header & 1) break;
    }
    at = pos + ((fhd & 4) ? 4 : 0);
  }
  return { asked: largest, bound };
}

/** `enum xz_ret` of the kernel's xz decoder (include/linux/xz.h). */
export const XzRet = {
  OK: 0,
  STREAM_END: 1,
  UNSUPPORTED_CHECK: 2,
  MEM_ERROR: 3,
  MEMLIMIT_ERROR: 4,
  FORMAT_ERROR: 5,
  OPTIONS_ERROR: 6,
  DATA_ERROR: 7,
  BUF_ERROR: 8,
} as const;

export type KernelDecompressVerdict =
  | { ok: true; bytes: Uint8Array }
  | { ok: false; errno: number; lines: KernelLine[]; xzStatus?: number;
    // Set when kmodsim cannot tell what the kernel would do.
    undecidable?: string };

/**
 * What `finit_module(..., MODULE_INIT_COMPRESSED_FILE)` does with the file in
 * kernel/module/decompress.c. `builtIn` is the configured MODULE_DECOMPRESS algorithm: 'none'
 * for Debian 6.1 (the stub refuses silently), 'xz' for Debian 6.12 and 7.2. Only xz is modelled;
 * the kernel never sniffs other formats, it just fails the xz magic check.
 */
export function kernelDecompress(
  bytes: Uint8Array,
  builtIn: 'none' | 'xz' = 'xz',
  options: DecompressOptions = {},
): KernelDecompressVerdict {
  if (builtIn === 'none') return { ok: false, errno: EOPNOTSUPP, lines: [] };

  if (!startsWith(bytes, XZ_MAGIC)) {
    return { ok: false, errno: EINVAL, lines: [line(KERN_ERR, 'not an xz compressed module')] };
  }
  const status = kernelXzHeaderStatus(bytes);
  if (status !== undefined) return xzFailure(status);

  const result = decompressModule(bytes, 'xz', options);
  if (result.ok) return { ok: true, bytes: result.bytes };

  // The kernel feeds the whole file in one buffer and stops when the decoder neither finishes
  // nor fills an output page. A stream cut short therefore ends with XZ_OK (0), not an error.
  if (result.error.code === 'truncated') return xzFailure(XzRet.OK);
  if (result.error.code === 'too-large') {
    // Not a kernel verdict: the kernel would keep allocating pages until vmalloc fails.
    return { ok: false, errno: EINVAL, lines: [] };
  }
  if (result.error.code === 'unavailable') {
    return { ok: false, errno: EINVAL, lines: [], undecidable: result.error.what };
  }
  return xzFailure(XzRet.DATA_ERROR);
}

function xzFailure(status: number): KernelDecompressVerdict {
  const text = `decompression failed with status ${status}`;
  return { ok: false, errno: EINVAL, lines: [line(KERN_ERR, text)], xzStatus: status };
}

/**
 * The stream-header checks of lib/xz/xz_dec_stream.c, in its order, for a kernel built without
 * XZ_DEC_ANY_CHECK: a header shorter than 12 bytes just runs out of input (XZ_OK), a bad CRC is
 * XZ_DATA_ERROR, reserved flag bits or any check other than NONE/CRC32 are XZ_OPTIONS_ERROR.
 * CRC64 is included in the last group because Debian 6.12 was observed to reject it (status 6).
 */
function kernelXzHeaderStatus(bytes: Uint8Array): number | undefined {
  if (bytes.length < XZ_HEADER_SIZE) return XzRet.OK;
  if (zlib.crc32(bytes.subarray(6, 8)) !== readLe32(bytes, 8)) return XzRet.DATA_ERROR;
  if (bytes[6] !== 0) return XzRet.OPTIONS_ERROR;
  if (bytes[7] > 1) return XzRet.OPTIONS_ERROR;
  return undefined;
}

// One bounds-checked, endian-aware view over the bytes of a file. Nothing is copied: strings
// and sections are read in place. 64-bit fields come back as numbers when they fit in 2^53
// (every size and offset of a real file does) and exactly, as bigint, when asked for.

import { ElfFormatError } from './errors.js';

export class ByteView {
  readonly bytes: Uint8Array;
  readonly data: DataView;
  readonly length: number;
  readonly little: boolean;
  private readonly latin1: Buffer;

  constructor(bytes: Uint8Array, little: boolean) {
    this.bytes = bytes;
    this.data = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.length = bytes.byteLength;
    this.little = little;
    this.latin1 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  check(offset: number, size: number, what: string, section?: { index: number; name?: string }) {
    if (!(offset >= 0 && size >= 0 && offset + size <= this.length)) {
      throw new ElfFormatError('truncated',
        `${what}: ${size} bytes at 0x${offset.toString(16)} run past the end of the file ` +
        `(${this.length} bytes)`, offset, section);
    }
  }

  u8(offset: number): number {
    return this.data.getUint8(offset);
  }

  u16(offset: number): number {
    return this.data.getUint16(offset, this.little);
  }

  u32(offset: number): number {
    return this.data.getUint32(offset, this.little);
  }

  i32(offset: number): number {
    return this.data.getInt32(offset, this.little);
  }

  // The low and high halves of a 64-bit field, for arithmetic that must not round.
  u64lo(offset: number): number {
    return this.data.getUint32(this.little ? offset : offset + 4, this.little);
  }

  u64hi(offset: number): number {
    return this.data.getUint32(this.little ? offset + 4 : offset, this.little);
  }

  // A 64-bit field as a number; exact below 2^53, and above it still larger than any file.
  u64(offset: number): number {
    return this.u64hi(offset) * 0x100000000 + this.u64lo(offset);
  }

  u64exact(offset: number): bigint {
    return this.data.getBigUint64(offset, this.little);
  }

  // A NUL-terminated string starting at `offset`, not reading past `limit`. Returns null when
  // no NUL comes before the limit.
  cstring(offset: number, limit: number): string | null {
    if (offset < 0 || offset >= limit) return null;
    // A loop, not subarray().indexOf(): names are short, and a view per name was a tenth of
    // a tree's allocation.
    const bytes = this.bytes;
    let end = offset;
    while (end < limit && bytes[end] !== 0) end++;
    if (end >= limit) return null;
    return this.latin1.toString('latin1', offset, end);
  }

  utf8(start: number, end: number): string {
    return this.latin1.toString('utf8', start, end);
  }

  latin1Slice(start: number, end: number): string {
    return this.latin1.toString('latin1', start, end);
  }
}

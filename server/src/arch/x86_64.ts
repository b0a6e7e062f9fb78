// x86_64 apply_relocate_add() (arch/x86/kernel/module.c). Its pr_fmt makes every line start
// with "module: ". 6.1 checks each place for a nonzero value as it writes it and tests
// overflow after the write; 6.12 computes and range-checks first, then checks and writes.
// Values are kept as 32-bit halves: kernel addresses do not fit a double exactly.

import { KERN_ERR, type KernelLine } from '../load/kmsg.js';

export const R_X86_64_NONE = 0;
export const R_X86_64_64 = 1;
export const R_X86_64_PC32 = 2;
export const R_X86_64_PLT32 = 4;
export const R_X86_64_32 = 10;
export const R_X86_64_32S = 11;
export const R_X86_64_PC64 = 24;

export interface RelocationTarget {
  // The laid-out bytes of the section the relocations write to, and its address (low half;
  // the high half is 0xffffffff).
  image: Uint8Array;
  addressLow: number;
  addressHigh: number;
}

export interface RelocationInput {
  // The raw relocation table.
  data: DataView;
  start: number;
  count: number;
  symbolLow: Uint32Array;
  symbolHigh: Uint32Array;
  moduleName: string;
  series: '6.1' | '6.12';
}

export interface RelocationOutcome {
  applied: number;
  // Index of the failing entry, or -1.
  failedAt: number;
  lines: KernelLine[];
  problem?: string;
  // The failing entry reads a symbol past the table or writes past its section: the kernel
  // checks neither, so it goes on with memory the simulation does not have.
  outOfBounds?: { symbol?: number; offset?: bigint };
}

// %p is hashed in dmesg; this stands in for it and tests normalise it.
export const HASHED_POINTER = '(____ptrval____)';

function hex64(hi: number, lo: number): string {
  if (hi === 0) return lo.toString(16);
  return hi.toString(16) + lo.toString(16).padStart(8, '0');
}

export function applyRelocateAdd(input: RelocationInput, target: RelocationTarget):
  RelocationOutcome {
  const { data, count, symbolLow, symbolHigh } = input;
  const image = target.image;
  const place = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const lines: KernelLine[] = [];
  const symbolCount = symbolLow.length;
  const old = input.series === '6.1';
  const words = tableWords(data, input.start, count);
  let at = input.start;

  for (let i = 0, w = 0; i < count; i++, at += 24, w += 6) {
    const offsetLow = words ? words[w] : data.getUint32(at, true);
    const offsetHigh = words ? words[w + 1] : data.getUint32(at + 4, true);
    const type = words ? words[w + 2] : data.getUint32(at + 8, true);
    const sym = words ? words[w + 3] : data.getUint32(at + 12, true);
    const addLow = words ? words[w + 4] : data.getUint32(at + 16, true);
    const addHigh = words ? words[w + 5] : data.getUint32(at + 20, true);

    if (type === R_X86_64_NONE) continue;
    if (sym >= symbolCount) {
      return { applied: i, failedAt: i, lines, outOfBounds: { symbol: sym },
        problem: `relocation ${i} names symbol ${sym}, past the symbol table ` +
          `(${symbolCount} entries)` };
    }

    // val = S + A, in halves.
    let lo = symbolLow[sym] + addLow;
    let hi = (symbolHigh[sym] + addHigh + (lo > 0xffffffff ? 1 : 0)) >>> 0;
    lo >>>= 0;
    // 6.1 reports S + A in its nonzero-target line, before P is subtracted.
    const sumLow = lo;
    const sumHigh = hi;
    let size: number;
    let overflow = false;
    switch (type) {
      case R_X86_64_64:
        size = 8;
        break;
      case R_X86_64_32:
        size = 4;
        overflow = hi !== 0;
        break;
      case R_X86_64_32S:
        size = 4;
        overflow = (lo & 0x80000000) ? hi !== 0xffffffff : hi !== 0;
        break;
      case R_X86_64_PC32:
      case R_X86_64_PLT32:
      case R_X86_64_PC64: {
        // val -= P, where P is the place's address.
        const pLow = target.addressLow + offsetLow;
        const pHigh = (target.addressHigh + offsetHigh + (pLow > 0xffffffff ? 1 : 0)) >>> 0;
        const diff = lo - (pLow >>> 0);
        hi = (hi - pHigh - (diff < 0 ? 1 : 0)) >>> 0;
        lo = diff >>> 0;
        size = type === R_X86_64_PC64 ? 8 : 4;
        break;
      }
      default:
        lines.push({ level: KERN_ERR, text: `module: ${input.moduleName}: Unknown rela ` +
          `relocation: ${type}` });
        return { applied: i, failedAt: i, lines };
    }

    if (offsetHigh !== 0 || offsetLow + size > image.length) {
      return { applied: i, failedAt: i, lines,
        outOfBounds: { offset: (BigInt(offsetHigh) << 32n) | BigInt(offsetLow) },
        problem: `relocation ${i} writes ${size} bytes at offset ` +
          `0x${hex64(offsetHigh, offsetLow)}, outside its ${image.length}-byte section` };
    }
    const nonzero = place.getUint32(offsetLow, true) !== 0
      || (size === 8 && place.getUint32(offsetLow + 4, true) !== 0);

    if (old) {
      if (nonzero) return invalidTarget(lines, input, type, sumHigh, sumLow, i, true);
      write(place, offsetLow, size, lo, hi);
      if (overflow) return overflowed(lines, input, type, hi, lo, i);
    } else {
      if (overflow) return overflowed(lines, input, type, hi, lo, i);
      if (nonzero) return invalidTarget(lines, input, type, hi, lo, i, false);
      write(place, offsetLow, size, lo, hi);
    }
  }
  return { applied: count, failedAt: -1, lines };
}

// The table as 32-bit words, read in place, when the host is little-endian and the table is
// 4-byte aligned (it always is in a real module); otherwise the DataView reads above.
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function tableWords(data: DataView, start: number, count: number): Uint32Array | undefined {
  const at = data.byteOffset + start;
  if (!LITTLE_ENDIAN_HOST || at % 4 !== 0 || count === 0) return undefined;
  return new Uint32Array(data.buffer, at, count * 6);
}

function write(place: DataView, at: number, size: number, lo: number, hi: number) {
  place.setUint32(at, lo, true);
  if (size === 8) place.setUint32(at + 4, hi, true);
}

function overflowed(lines: KernelLine[], input: RelocationInput, type: number, hi: number,
  lo: number, i: number): RelocationOutcome {
  lines.push({ level: KERN_ERR,
    text: `module: overflow in relocation type ${type} val ${hex64(hi, lo)}` });
  lines.push({ level: KERN_ERR,
    text: `module: \`${input.moduleName}' likely not compiled with -mcmodel=kernel` });
  return { applied: i, failedAt: i, lines };
}

function invalidTarget(lines: KernelLine[], input: RelocationInput, type: number, hi: number,
  lo: number, i: number, old: boolean): RelocationOutcome {
  const what = old ? 'Skipping invalid relocation target' : 'Invalid relocation target';
  lines.push({ level: KERN_ERR, text: `module: x86/modules: ${what}, existing value is ` +
    `nonzero for type ${type}, loc ${HASHED_POINTER}, val ${hex64(hi, lo)}` });
  return { applied: i, failedAt: i, lines };
}

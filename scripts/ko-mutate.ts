// ko-mutate: derive test inputs from a real .ko by editing its bytes in place. Every edit keeps
// the file layout (values only shrink or keep their length, NUL padded), so the result differs
// from the original exactly where the edit says: a signed module keeps its now-stale signature
// unless it is stripped, which is what the signature tests need.
//
//   npx tsx scripts/ko-mutate.ts IN OUT [--strip-sig] [--set-vermagic V] [--del-modinfo KEY]
//       [--set-modinfo KEY=V] [--bump-crc SYM] [--set-crc SYM=0xCRC] [--truncate N|-N]
//       [--set-byte OFFSET=VALUE]
// Edits apply in the order given.

import * as fs from 'node:fs';
import { ElfFile } from '../server/src/elf/index.js';
import { readModuleSignature } from '../server/src/module/signature.js';

export type Mutation =
  | { op: 'strip-sig' }
  | { op: 'set-vermagic'; value: string }
  | { op: 'del-modinfo'; key: string }
  | { op: 'set-modinfo'; key: string; value: string }
  | { op: 'bump-crc'; symbol: string }
  | { op: 'set-crc'; symbol: string; crc: number }
  | { op: 'truncate'; length: number }
  | { op: 'set-byte'; offset: number; value: number };

export class MutateError extends Error {}

const enc = new TextEncoder();

interface Entry { key: string; offset: number; length: number }

function modinfoEntries(bytes: Uint8Array): Entry[] {
  const elf = ElfFile.open(bytes);
  const sec = elf.section('.modinfo');
  if (!sec) throw new MutateError('no .modinfo section');
  const out: Entry[] = [];
  let i = sec.offset;
  const end = sec.offset + sec.size;
  while (i < end) {
    if (bytes[i] === 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < end && bytes[j] !== 0) j++;
    const text = Buffer.from(bytes.subarray(i, j)).toString('latin1');
    const eq = text.indexOf('=');
    out.push({ key: eq < 0 ? text : text.slice(0, eq), offset: i, length: j - i });
    i = j + 1;
  }
  return out;
}

function findEntry(bytes: Uint8Array, key: string): Entry {
  const e = modinfoEntries(bytes).find((x) => x.key === key);
  if (!e) throw new MutateError(`no modinfo key '${key}'`);
  return e;
}

function setModinfo(bytes: Uint8Array, key: string, value: string) {
  const e = findEntry(bytes, key);
  const text = enc.encode(`${key}=${value}`);
  // Growing would overwrite the next entry; the kernel would then read a different module.
  if (text.length > e.length) {
    throw new MutateError(`${key}: ${text.length} bytes do not fit where ${e.length} were`);
  }
  bytes.fill(0, e.offset, e.offset + e.length);
  bytes.set(text, e.offset);
}

// The CRC field of a __versions entry: the first 4 bytes of its unsigned long (little endian).
function crcOffset(bytes: Uint8Array, symbol: string): number {
  const elf = ElfFile.open(bytes);
  const sec = elf.section('__versions');
  if (!sec) throw new MutateError('no __versions section');
  const crcSize = elf.is64 ? 8 : 4;
  for (let at = sec.offset; at + 64 <= sec.offset + sec.size; at += 64) {
    let end = at + crcSize;
    while (end < at + 64 && bytes[end] !== 0) end++;
    const name = Buffer.from(bytes.subarray(at + crcSize, end)).toString('latin1');
    if (name === symbol) return at;
  }
  throw new MutateError(`no __versions entry for '${symbol}'`);
}

function readU32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

function writeU32(b: Uint8Array, at: number, v: number) {
  for (let i = 0; i < 4; i++) b[at + i] = (v >>> (8 * i)) & 0xff;
}

// Applies the edits in order and returns a new buffer; the input is not changed.
export function mutate(input: Uint8Array, edits: Mutation[]): Uint8Array {
  let bytes = new Uint8Array(input);
  for (const m of edits) {
    switch (m.op) {
      case 'strip-sig': {
        const sig = readModuleSignature(bytes);
        if (!sig.present) throw new MutateError('the module has no appended signature');
        bytes = bytes.slice(0, sig.elfLength);
        break;
      }
      case 'set-vermagic':
        setModinfo(bytes, 'vermagic', m.value);
        break;
      case 'set-modinfo':
        setModinfo(bytes, m.key, m.value);
        break;
      case 'del-modinfo': {
        // Blanked, not removed: the kernel skips NUL runs in .modinfo, so the key is gone.
        const e = findEntry(bytes, m.key);
        bytes.fill(0, e.offset, e.offset + e.length);
        break;
      }
      case 'bump-crc': {
        const at = crcOffset(bytes, m.symbol);
        writeU32(bytes, at, (readU32(bytes, at) ^ 1) >>> 0);
        break;
      }
      case 'set-crc':
        writeU32(bytes, crcOffset(bytes, m.symbol), m.crc >>> 0);
        break;
      case 'truncate': {
        const n = m.length < 0 ? bytes.length + m.length : m.length;
        if (n < 0 || n > bytes.length) throw new MutateError(`cannot truncate to ${n} bytes`);
        bytes = bytes.slice(0, n);
        break;
      }
      case 'set-byte':
        if (m.offset < 0 || m.offset >= bytes.length) {
          throw new MutateError(`offset ${m.offset} is outside the file`);
        }
        bytes[m.offset] = m.value & 0xff;
        break;
    }
  }
  return bytes;
}

function num(s: string): number {
  const neg = s.startsWith('-');
  const t = neg ? s.slice(1) : s;
  const v = /^0x[0-9a-f]+$/i.test(t) ? parseInt(t.slice(2), 16)
    : /^\d+$/.test(t) ? Number(t) : NaN;
  if (Number.isNaN(v)) throw new MutateError(`not a number: ${s}`);
  return neg ? -v : v;
}

function splitEq(s: string, what: string): [string, string] {
  const eq = s.indexOf('=');
  if (eq <= 0) throw new MutateError(`${what} needs KEY=VALUE, got '${s}'`);
  return [s.slice(0, eq), s.slice(eq + 1)];
}

export function parseMutationArgs(args: string[]): Mutation[] {
  const out: Mutation[] = [];
  for (let i = 0; i < args.length; i++) {
    const op = args[i];
    const arg = () => {
      if (i + 1 >= args.length) throw new MutateError(`${op} needs a value`);
      return args[++i];
    };
    if (op === '--strip-sig') out.push({ op: 'strip-sig' });
    else if (op === '--set-vermagic') out.push({ op: 'set-vermagic', value: arg() });
    else if (op === '--del-modinfo') out.push({ op: 'del-modinfo', key: arg() });
    else if (op === '--set-modinfo') {
      const [key, value] = splitEq(arg(), op);
      out.push({ op: 'set-modinfo', key, value });
    } else if (op === '--bump-crc') out.push({ op: 'bump-crc', symbol: arg() });
    else if (op === '--set-crc') {
      const [symbol, crc] = splitEq(arg(), op);
      out.push({ op: 'set-crc', symbol, crc: num(crc) });
    } else if (op === '--truncate') out.push({ op: 'truncate', length: num(arg()) });
    else if (op === '--set-byte') {
      const [offset, value] = splitEq(arg(), op);
      out.push({ op: 'set-byte', offset: num(offset), value: num(value) });
    } else throw new MutateError(`unknown option: ${op}`);
  }
  return out;
}

function main(argv: string[]): number {
  if (argv.length < 2) {
    process.stderr.write('usage: ko-mutate IN OUT [edits...]\n');
    return 2;
  }
  try {
    const out = mutate(new Uint8Array(fs.readFileSync(argv[0])), parseMutationArgs(argv.slice(2)));
    fs.writeFileSync(argv[1], out);
    return 0;
  } catch (e) {
    process.stderr.write(`ko-mutate: ${(e as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));

// ko-mutate: derive test inputs from a real .ko by editing its bytes in place. Every edit keeps
// the file layout (values only shrink or keep their length, NUL padded), so the result differs
// from the original exactly where the edit says: a signed module keeps its now-stale signature
// unless it is stripped, which is what the signature tests need.
//
//   npx tsx scripts/ko-mutate.ts IN OUT [--strip-sig] [--set-vermagic V] [--del-modinfo KEY]
//       [--set-modinfo KEY=V] [--bump-crc SYM] [--set-crc SYM=0xCRC] [--truncate N|-N]
//       [--set-byte OFFSET=VALUE] [--set-field OFFSET:WIDTH=VALUE] [--drop-version SYM]
//       [--rename-version OLD=NEW] [--set-section-name SECTION=EXISTING_NAME]
//       [--rename-symbol OLD=NEW]
//       [--set-rela SECTION:INDEX:type|sym|addend=VALUE] [--poke-rela-target SECTION:INDEX=BYTE]
//       [--sign KEY.pem:CERT.pem]
// Edits apply in the order given. --sign appends a module signature made with openssl (the
// layout kbuild's sign-file writes), so a module can carry a key the kernel does not know.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
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
  | { op: 'set-byte'; offset: number; value: number }
  // A little-endian field of 1, 2, 4 or 8 bytes; the value is a bigint so 64-bit fits.
  | { op: 'set-field'; offset: number; width: number; value: bigint }
  | { op: 'drop-version'; symbol: string }
  | { op: 'rename-version'; from: string; to: string }
  | { op: 'set-section-name'; section: string; name: string }
  | { op: 'rename-symbol'; from: string; to: string }
  | { op: 'set-rela'; section: string; index: number; field: 'type' | 'sym' | 'addend';
      value: bigint }
  | { op: 'poke-rela-target'; section: string; index: number; value: number }
  | { op: 'sign'; key: string; cert: string };

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


function writeField(b: Uint8Array, at: number, width: number, v: bigint) {
  if (![1, 2, 4, 8].includes(width)) throw new MutateError(`field width ${width} is not 1/2/4/8`);
  if (at < 0 || at + width > b.length) {
    throw new MutateError(`field ${at}:${width} is outside the file (${b.length} bytes)`);
  }
  let x = BigInt.asUintN(width * 8, v);
  for (let i = 0; i < width; i++, x >>= 8n) b[at + i] = Number(x & 0xffn);
}

function sectionNamed(bytes: Uint8Array, name: string) {
  const elf = ElfFile.open(bytes);
  const sec = elf.section(name);
  if (!sec) throw new MutateError(`no section '${name}'`);
  return { elf, sec };
}

// Removes one entry from __versions the way an incomplete Module.symvers leaves it out: the
// later entries move up and the last slot becomes zeroes (an empty name matches nothing).
function dropVersion(bytes: Uint8Array, symbol: string) {
  const at = crcOffset(bytes, symbol);
  const { sec } = sectionNamed(bytes, '__versions');
  const end = sec.offset + sec.size - (sec.size % 64);
  bytes.copyWithin(at, at + 64, end);
  bytes.fill(0, end - 64, end);
}

// Points a section's sh_name at NAME, which must already be in .shstrtab (as a whole string or
// the tail of one): renaming in place could rename the .rela section sharing the same tail.
function setSectionName(bytes: Uint8Array, section: string, name: string) {
  const { elf, sec } = sectionNamed(bytes, section);
  const strtab = elf.sections[elf.header.shstrndx];
  const table = bytes.subarray(strtab.offset, strtab.offset + strtab.size);
  const want = enc.encode(`${name}\0`);
  for (let i = 0; i + want.length <= table.length; i++) {
    if (want.every((c, j) => table[i + j] === c)) {
      writeField(bytes, sec.headerOffset, 4, BigInt(i));
      return;
    }
  }
  throw new MutateError(`'${name}' is not in the section name table`);
}

// Renames a symbol in its string table in place; refused when another symbol's name shares the
// bytes (tail merging), since that symbol would be renamed too.
function renameSymbol(bytes: Uint8Array, from: string, to: string) {
  const elf = ElfFile.open(bytes);
  const syms = elf.symbols;
  if (!syms || !syms.strtab) throw new MutateError('no symbol table');
  const i = syms.find(from);
  if (i < 0) throw new MutateError(`no symbol '${from}'`);
  if (to.length > from.length) {
    throw new MutateError(`'${to}' is longer than '${from}'`);
  }
  const start = syms.nameOffset[i];
  for (let k = 0; k < syms.count; k++) {
    const o = syms.nameOffset[k];
    if (k !== i && o >= start && o <= start + from.length && syms.name(k) !== '') {
      throw new MutateError(`'${syms.name(k)}' shares the bytes of '${from}'`);
    }
  }
  const at = syms.strtab.offset + start;
  bytes.fill(0, at, at + from.length);
  bytes.set(enc.encode(to), at);
}

function relaEntry(bytes: Uint8Array, section: string, index: number) {
  const { elf, sec } = sectionNamed(bytes, section);
  if (index < 0 || (index + 1) * 24 > sec.size) {
    throw new MutateError(`${section} has no entry ${index}`);
  }
  const at = sec.offset + index * 24;
  const target = elf.sections[sec.info];
  const rOffset = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(at, true));
  return { at, targetAt: target.offset + rOffset };
}

// sign-file's layout: PKCS#7 (CMS, no attributes, no certificates, detached), then struct
// module_signature {algo, hash, id_type = PKEY_ID_PKCS7 (2), signer_len, key_id_len, pad[3],
// sig_len big endian}, then the magic. RSA PKCS#1 v1.5 with no signing time is deterministic.
function sign(bytes: Uint8Array, key: string, cert: string): Uint8Array<ArrayBuffer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ko-mutate-'));
  try {
    const input = path.join(dir, 'in.ko');
    fs.writeFileSync(input, bytes);
    const cms = new Uint8Array(execFileSync('openssl', ['cms', '-sign', '-in', input,
      '-signer', cert, '-inkey', key, '-outform', 'DER', '-binary', '-nocerts', '-noattr',
      '-nosmimecap', '-md', 'sha256']));
    const info = new Uint8Array(12);
    info[2] = 2;
    new DataView(info.buffer).setUint32(8, cms.length, false);
    const magic = enc.encode('~Module signature appended~\n');
    const out = new Uint8Array(bytes.length + cms.length + info.length + magic.length);
    out.set(bytes, 0);
    out.set(cms, bytes.length);
    out.set(info, bytes.length + cms.length);
    out.set(magic, bytes.length + cms.length + info.length);
    return out;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
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
      case 'set-field':
        writeField(bytes, m.offset, m.width, m.value);
        break;
      case 'drop-version':
        dropVersion(bytes, m.symbol);
        break;
      case 'rename-version': {
        const at = crcOffset(bytes, m.from);
        const name = enc.encode(m.to);
        if (name.length > 55) throw new MutateError(`'${m.to}' does not fit a __versions name`);
        bytes.fill(0, at + 8, at + 64);
        bytes.set(name, at + 8);
        break;
      }
      case 'set-section-name':
        setSectionName(bytes, m.section, m.name);
        break;
      case 'rename-symbol':
        renameSymbol(bytes, m.from, m.to);
        break;
      case 'set-rela': {
        const { at } = relaEntry(bytes, m.section, m.index);
        // r_info is ELF64_R_INFO(sym, type): the type in its low 32 bits, the symbol above.
        if (m.field === 'type') writeField(bytes, at + 8, 4, m.value);
        else if (m.field === 'sym') writeField(bytes, at + 12, 4, m.value);
        else writeField(bytes, at + 16, 8, m.value);
        break;
      }
      case 'poke-rela-target': {
        const { targetAt } = relaEntry(bytes, m.section, m.index);
        writeField(bytes, targetAt, 1, BigInt(m.value));
        break;
      }
      case 'sign':
        bytes = sign(bytes, m.key, m.cert);
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
    } else if (op === '--set-field') {
      const [where, value] = splitEq(arg(), op);
      const [offset, width] = where.split(':');
      out.push({ op: 'set-field', offset: num(offset), width: num(width ?? '1'),
        value: BigInt(value) });
    } else if (op === '--drop-version') out.push({ op: 'drop-version', symbol: arg() });
    else if (op === '--rename-version') {
      const [from, to] = splitEq(arg(), op);
      out.push({ op: 'rename-version', from, to });
    }
    else if (op === '--set-section-name') {
      const [section, name] = splitEq(arg(), op);
      out.push({ op: 'set-section-name', section, name });
    } else if (op === '--rename-symbol') {
      const [from, to] = splitEq(arg(), op);
      out.push({ op: 'rename-symbol', from, to });
    } else if (op === '--set-rela') {
      const [where, value] = splitEq(arg(), op);
      const [section, index, field] = where.split(':');
      if (field !== 'type' && field !== 'sym' && field !== 'addend') {
        throw new MutateError(`--set-rela needs SECTION:INDEX:type|sym|addend=VALUE`);
      }
      out.push({ op: 'set-rela', section, index: num(index), field, value: BigInt(value) });
    } else if (op === '--poke-rela-target') {
      const [where, value] = splitEq(arg(), op);
      const [section, index] = where.split(':');
      out.push({ op: 'poke-rela-target', section, index: num(index), value: num(value) });
    } else if (op === '--sign') {
      const [key, cert] = arg().split(':');
      out.push({ op: 'sign', key, cert });
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

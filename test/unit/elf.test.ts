// The ELF decoder on small files built here byte by byte: ELF32 and ELF64, little and big
// endian, a symbol in a section numbered through SHN_XINDEX, and 64-bit values above 2^53.
// Expected values are the fields the test wrote.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ElfFile, ElfFormatError, SHN_XINDEX } from '../../server/src/elf/index.js';

interface Sec { name: string; type: number; data: Uint8Array; link?: number; entsize?: number }

// Builds an ET_REL file: sections laid out after the header, then the section table.
function build(is64: boolean, little: boolean, secs: Sec[]) {
  const names = ['', ...secs.map((s) => s.name), '.shstrtab'];
  const shstr = new TextEncoder().encode(names.join('\0') + '\0');
  const all: Sec[] = [...secs, { name: '.shstrtab', type: 3, data: shstr }];
  const ehsize = is64 ? 64 : 52;
  const shentsize = is64 ? 64 : 40;
  let off = ehsize;
  const offsets = all.map((s) => { const o = off; off += s.data.length; return o; });
  const shoff = Math.ceil(off / 8) * 8;
  const total = shoff + shentsize * (all.length + 1);
  const w = new Writer(total, little);
  w.bytes(0, [0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, little ? 1 : 2, 1]);
  w.u16(16, 1);
  w.u16(18, 62);
  w.u32(20, 1);
  if (is64) {
    w.u64(40, BigInt(shoff)); w.u16(52, 64); w.u16(58, 64);
    w.u16(60, all.length + 1); w.u16(62, all.length);
  } else {
    w.u32(32, shoff); w.u16(40, 52); w.u16(46, 40);
    w.u16(48, all.length + 1); w.u16(50, all.length);
  }
  let nameOff = 1;
  all.forEach((s, i) => {
    w.buf.set(s.data, offsets[i]);
    const at = shoff + shentsize * (i + 1);
    w.u32(at, nameOff);
    nameOff += s.name.length + 1;
    w.u32(at + 4, s.type);
    if (is64) {
      w.u64(at + 24, BigInt(offsets[i])); w.u64(at + 32, BigInt(s.data.length));
      w.u32(at + 40, s.link ?? 0); w.u64(at + 56, BigInt(s.entsize ?? 0));
    } else {
      w.u32(at + 16, offsets[i]); w.u32(at + 20, s.data.length);
      w.u32(at + 24, s.link ?? 0); w.u32(at + 36, s.entsize ?? 0);
    }
  });
  return w.buf;
}

class Writer {
  readonly buf: Uint8Array;
  private readonly v: DataView;
  constructor(size: number, private readonly little: boolean) {
    this.buf = new Uint8Array(size);
    this.v = new DataView(this.buf.buffer);
  }
  bytes(at: number, b: number[]) { this.buf.set(b, at); }
  u16(at: number, x: number) { this.v.setUint16(at, x, this.little); }
  u32(at: number, x: number) { this.v.setUint32(at, x, this.little); }
  u64(at: number, x: bigint) { this.v.setBigUint64(at, x, this.little); }
}

function symtab64(little: boolean, value: bigint, shndx: number) {
  const w = new Writer(48, little);
  w.u32(24, 1);
  w.bytes(28, [0x12, 0]);
  w.u16(30, shndx);
  w.u64(32, value);
  return w.buf;
}

const strtab = new TextEncoder().encode('\0probe\0');

for (const little of [true, false]) {
  test(`decodes an ELF64 ${little ? 'little' : 'big'}-endian file with an exact 64-bit value`,
    () => {
      const value = 0xffffffffc0001234n;
      const bytes = build(true, little, [
        { name: '.strtab', type: 3, data: strtab },
        { name: '.symtab', type: 2, data: symtab64(little, value, 1), link: 1, entsize: 24 },
      ]);
      const elf = ElfFile.open(bytes);
      assert.deepEqual(elf.sections.map((s) => s.name), ['', '.strtab', '.symtab', '.shstrtab']);
      const syms = elf.symbols!;
      assert.equal(syms.count, 2);
      assert.equal(syms.name(1), 'probe');
      assert.equal(syms.value(1), value);
      assert.equal(syms.valueHi[1], 0xffffffff);
      assert.equal(syms.valueLo[1], 0xc0001234);
    });
}

test('decodes an ELF32 little-endian file', () => {
  const w = new Writer(32, true);
  w.u32(16, 1);
  w.u32(20, 0x8000);
  w.bytes(28, [0x11, 0]);
  w.u16(30, 1);
  const bytes = build(false, true, [
    { name: '.strtab', type: 3, data: strtab },
    { name: '.symtab', type: 2, data: w.buf, link: 1, entsize: 16 },
  ]);
  const elf = ElfFile.open(bytes);
  assert.equal(elf.is64, false);
  assert.equal(elf.symbols!.name(1), 'probe');
  assert.equal(elf.symbols!.valueLo[1], 0x8000);
});

test('resolves SHN_XINDEX through SHT_SYMTAB_SHNDX', () => {
  const shndx = new Writer(8, true);
  shndx.u32(4, 70000);
  const bytes = build(true, true, [
    { name: '.strtab', type: 3, data: strtab },
    { name: '.symtab', type: 2, data: symtab64(true, 0n, SHN_XINDEX), link: 1, entsize: 24 },
    { name: '.symtab_shndx', type: 18, data: shndx.buf, link: 2, entsize: 4 },
  ]);
  const syms = ElfFile.open(bytes).symbols!;
  assert.equal(syms.rawShndx[1], SHN_XINDEX);
  assert.equal(syms.shndx[1], 70000);
});

test('a section table past the end is a typed error with its offset', () => {
  const bytes = build(true, true, [{ name: '.strtab', type: 3, data: strtab }]);
  const cut = bytes.subarray(0, bytes.length - 10);
  const elf = ElfFile.open(cut);
  assert.throws(() => elf.sections, (e: unknown) => e instanceof ElfFormatError
    && e.code === 'truncated' && e.offset === elf.header.shoff);
});

test('a section whose contents lie outside the file names the section', () => {
  const bytes = build(true, true, [{ name: '.strtab', type: 3, data: strtab }]);
  const elf = ElfFile.open(bytes);
  const s = elf.sections[1];
  s.size = 1 << 30;
  assert.throws(() => elf.sectionData(s), (e: unknown) => e instanceof ElfFormatError
    && e.section?.index === 1 && e.section?.name === '.strtab');
});

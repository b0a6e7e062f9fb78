// Properties of the issue, checked with fast-check over generated damage to real modules:
// - a file that fails one of the kernel's ELF validity checks is refused with ENOEXEC and
//   exactly that check's message (the messages are the kernel's, kernel-load.md §1.2);
// - nothing but a result leaves the engine, whatever the damage (the fuzz targets' checks);
// - decompression never throws and never exceeds its output limit;
// - parse_args accepts every int in range in every base kstrtoint takes, and nothing it is not
//   given a parameter for.
// The module is examples/hello/hello.ko, which loads cleanly into the bundled 6.1 profile.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { ElfFile } from '../../server/src/elf/index.js';
import { loadProfileFile } from '../../server/src/kernel/profile-json.js';
import { SimulatedKernel } from '../../server/src/load/kernel.js';
import { decompressModule, type CompressionKind } from '../../server/src/module/decompress.js';
import { parseArgs } from '../../server/src/params/index.js';
import { Rng, layoutOf, mutate, signatureOf, structured } from './mutate.js';
import { checkDecompress, checkLoad, decodeElf, decodeModule, LOAD_PARAMS } from './targets.js';

const REPO = path.resolve(__dirname, '..', '..');
const hello = new Uint8Array(fs.readFileSync(path.join(REPO, 'examples/hello/hello.ko')));
const profile = loadProfileFile(path.join(REPO, 'profiles/debian-6.1.0-57-amd64.json'));
const layout = layoutOf(hello)!;
const RUNS = { numRuns: 150 };

function withField(at: number, size: 2 | 4 | 8, value: bigint): Uint8Array {
  const out = hello.slice();
  const v = new DataView(out.buffer);
  if (size === 2) v.setUint16(at, Number(BigInt.asUintN(16, value)), true);
  else if (size === 4) v.setUint32(at, Number(BigInt.asUintN(32, value)), true);
  else v.setBigUint64(at, BigInt.asUintN(64, value), true);
  return out;
}

function refusedWith(bytes: Uint8Array, message: string) {
  const r = SimulatedKernel.boot(profile).finitModule(bytes, '', 0);
  assert.equal(r.errnoName, 'ENOEXEC');
  assert.equal(r.lines.at(-1)?.text, message);
  assert.ok(r.steps.some((s) => s.outcome === 'failed' && s.detail === message));
}

// Sizes and offsets that break arithmetic: near 2^32 and 2^64, and just past the file.
const hostileSize = fc.oneof(
  fc.bigInt({ min: 0xffffff00n, max: 0x100000100n }),
  fc.bigInt({ min: 0xffffffffffffff00n, max: 0xffffffffffffffffn }),
  fc.bigInt({ min: 1n << 53n, max: 1n << 63n }),
  fc.bigInt({ min: BigInt(hello.length), max: BigInt(hello.length) + 4096n }),
);

test('the unmodified example loads: the properties below start from a good file', () => {
  const r = SimulatedKernel.boot(profile).finitModule(hello, '', 0);
  assert.equal(r.ret, 0);
});

test('ELF header checks: magic, type, machine, e_shentsize, each with its message', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 255 }),
    (at, byte) => {
      fc.pre(byte !== hello[at]);
      const bad = hello.slice();
      bad[at] = byte;
      refusedWith(bad, 'Invalid ELF header magic: != \x7fELF');
    }), RUNS);
  fc.assert(fc.property(fc.integer({ min: 0, max: 0xffff }).filter((t) => t !== 1), (t) => {
    refusedWith(withField(16, 2, BigInt(t)), `Invalid ELF header type: ${t} != 1`);
  }), RUNS);
  fc.assert(fc.property(fc.integer({ min: 0, max: 0xffff }).filter((m) => m !== 62), (m) => {
    refusedWith(withField(18, 2, BigInt(m)), `Invalid architecture in ELF header: ${m}`);
  }), RUNS);
  fc.assert(fc.property(fc.integer({ min: 0, max: 0xffff }).filter((s) => s !== 64), (s) => {
    refusedWith(withField(58, 2, BigInt(s)), 'Invalid ELF section header size');
  }), RUNS);
});

test('a section table that does not fit: e_shoff or e_shnum near 2^32 and 2^64', () => {
  fc.assert(fc.property(hostileSize, (shoff) => {
    refusedWith(withField(40, 8, shoff), 'Invalid ELF section header overflow');
  }), RUNS);
  const fits = Math.floor((hello.length - layout.shoff) / 64);
  fc.assert(fc.property(fc.integer({ min: fits + 1, max: 0xffff }), (shnum) => {
    refusedWith(withField(60, 2, BigInt(shnum)), 'Invalid ELF section header overflow');
  }), RUNS);
});

test('e_shstrndx 0 or past e_shnum', () => {
  const n = layout.shnum;
  fc.assert(fc.property(fc.oneof(fc.constant(0), fc.integer({ min: n, max: 0xffff })), (i) => {
    refusedWith(withField(62, 2, BigInt(i)),
      `Invalid ELF section name index: ${i} || e_shstrndx (${i}) >= e_shnum (${n})`);
  }), RUNS);
});

test('a section whose contents lie outside the file names that section', () => {
  // Not the name table (index 36 in hello.ko): 6.1 checks it first, with its own message.
  const inFile = layout.sections.filter((s) => s.index > 0 && s.index !== 36 && s.type !== 8
    && s.type !== 0);
  fc.assert(fc.property(fc.constantFrom(...inFile), hostileSize, fc.boolean(), (s, v, which) => {
    // Either the offset or the size: the end must be computed without rounding or wrapping.
    const end = which ? v + BigInt(s.size) : BigInt(s.offset) + v;
    fc.pre(end > BigInt(hello.length));
    refusedWith(withField(s.header + (which ? 24 : 32), 8, v),
      `Invalid ELF section in module (section ${s.index} type ${s.type})`);
  }), RUNS);
  const strtab = layout.sections[36];
  fc.assert(fc.property(hostileSize, (v) => {
    fc.pre(v + BigInt(strtab.size) > BigInt(hello.length));
    refusedWith(withField(strtab.header + 24, 8, v), 'Invalid ELF section hdr(type 3)');
  }), RUNS);
});

test('section 0 with a type, size or address; an unterminated section name table', () => {
  const s0 = layout.sections[0].header;
  fc.assert(fc.property(fc.constantFrom(4, 16, 32), fc.integer({ min: 1, max: 0xffffffff }),
    (field, v) => {
      const bad = withField(s0 + field, field === 4 ? 4 : 8, BigInt(v));
      // The kernel prints sh_type with %d: a type of 2^31 or more comes out negative.
      const type = field === 4 ? v | 0 : 0;
      refusedWith(bad, `ELF Spec violation: section 0 type(${type})!=SH_NULL or non-zero len ` +
        'or addr');
    }), RUNS);
  const shstrtab = layout.sections[36];
  fc.assert(fc.property(fc.integer({ min: 1, max: 255 }), (byte) => {
    const bad = hello.slice();
    bad[shstrtab.offset + shstrtab.size - 1] = byte;
    refusedWith(bad, "ELF Spec violation: section name table isn't null terminated");
  }), RUNS);
});

test('a symbol table whose sh_link is 0 or past e_shnum', () => {
  const symtab = layout.sections.find((s) => s.type === 2)!;
  const n = layout.shnum;
  fc.assert(fc.property(fc.oneof(fc.constant(0), fc.integer({ min: n, max: 0xffffffff })),
    (link) => {
      const shown = link | 0; // printed with %d
      refusedWith(withField(symtab.header + 40, 4, BigInt(link)),
        `Invalid ELF sh_link!=SHN_UNDEF(${shown}) or (sh_link(${shown}) >= hdr->e_shnum(${n})`);
    }), RUNS);
});

test('extended numbering: the decoder reads it, the kernel takes e_shnum 0 literally', () => {
  const n = layout.shnum;
  const s0 = layout.sections[0].header;
  fc.assert(fc.property(fc.boolean(), fc.boolean(), (count, strndx) => {
    fc.pre(count || strndx);
    const bad = hello.slice();
    const v = new DataView(bad.buffer);
    if (count) {
      v.setUint16(60, 0, true);
      v.setBigUint64(s0 + 32, BigInt(n), true);
    }
    if (strndx) {
      v.setUint16(62, 0xffff, true);
      v.setUint32(s0 + 40, 36, true);
    }
    // The decoder sees every section, with its name, as in the unmodified file.
    const names = ElfFile.open(bad).sections.map((x) => x.name);
    assert.deepEqual(names, ElfFile.open(hello).sections.map((x) => x.name));
    const shstrndx = strndx ? 65535 : 36;
    const shnum = count ? 0 : n;
    refusedWith(bad, `Invalid ELF section name index: ${shstrndx} || e_shstrndx (${shstrndx}) ` +
      `>= e_shnum (${shnum})`);
  }), { numRuns: 10 });
});

test('any stack of structure-aware mutations gives a result and nothing else', () => {
  fc.assert(fc.property(fc.integer(), fc.constantFrom(...Object.keys(structured)), (seed, m) => {
    const r = new Rng(seed);
    const once = structured[m](hello, layout, r);
    const more = mutate(once, r, hello);
    for (const b of [once, more]) {
      decodeElf(b, false);
      decodeElf(b, true);
      decodeModule(b);
      checkLoad(profile, b, LOAD_PARAMS);
    }
  }), { numRuns: 300 });
});

test('damage anywhere in a signature trailer gives a signature verdict, never an exception',
  () => {
    const signed = new Uint8Array(fs.readFileSync(path.join(REPO, 'test/fixtures/tiny-rsa.ko')));
    const [from, to] = signatureOf(signed)!;
    fc.assert(fc.property(fc.integer({ min: from, max: to - 1 }), fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 2 }), (at, byte, cut) => {
        const bad = signed.slice();
        bad[at] = byte;
        // Also the DER cut short at that byte, with the trailer kept behind it.
        const input = cut === 0 ? bad : new Uint8Array([...bad.subarray(0, at),
          ...bad.subarray(to - 12)]);
        decodeModule(input);
        checkLoad(profile, input, '');
      }), { numRuns: 300 });
  });

test('decompression of any bytes returns a result within its limit', () => {
  const kinds: CompressionKind[] = ['xz', 'gzip', 'zstd'];
  const magic = fc.constantFrom([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], [0x1f, 0x8b, 0x08],
    [0x28, 0xb5, 0x2f, 0xfd], []);
  fc.assert(fc.property(magic, fc.uint8Array({ maxLength: 512 }), fc.integer({ min: 0,
    max: 1 << 16 }), (m, body, limit) => {
    const bytes = new Uint8Array([...m, ...body]);
    checkDecompress(bytes);
    for (const kind of kinds) {
      const r = decompressModule(bytes, kind, { maxOutput: limit });
      if (r.ok) assert.ok(r.bytes.length <= limit);
    }
  }), { numRuns: 500 });
});

test('parse_args: every int in range is accepted in base 10, 16 and 8, as kstrtoint does', () => {
  const spec = [{ name: 'n', type: 'int' as const, perm: 0o644, flags: 0 }];
  fc.assert(fc.property(fc.integer({ min: -0x80000000, max: 0x7fffffff }), (n) => {
    const mag = Math.abs(n);
    const sign = n < 0 ? '-' : '';
    for (const text of [`${n}`, `${sign}0x${mag.toString(16)}`, `${sign}0${mag.toString(8)}`]) {
      const r = parseArgs('m', `n=${text}`, spec, {});
      assert.equal(r.errno, 0, text);
      assert.equal(r.values.get('n'), String(n), text);
    }
  }), RUNS);
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (args) => {
    const r = parseArgs('m', args, spec, {});
    for (const a of r.assignments) assert.equal(a.param, 'n');
  }), { numRuns: 500 });
});

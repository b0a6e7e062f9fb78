// Structure-aware mutations of module files, the ones the issue names: truncation at every
// structure boundary; byte flips in the ELF header, section table, symbol table, relocations,
// .modinfo and __versions; sizes and counts near 2^32 and 2^64; overlapping and out-of-file
// sections; sh_link cycles; unterminated strings; SHN_XINDEX; symbol indices past the table;
// relocation offsets past their section. The layout is read here with plain DataView reads
// (64-bit little-endian, as the kernel reads), independent of the decoder under test, and
// every read is guarded so that a damaged input still gets generic mutations.

export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = (seed >>> 0) || 0x9e3779b9;
  }

  // xorshift32: fast and reproducible from the printed seed.
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }

  below(n: number): number {
    return n <= 0 ? 0 : this.next() % n;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }

  chance(p: number): boolean {
    return this.next() / 0x100000000 < p;
  }
}

interface Section {
  index: number;
  header: number;
  name: string;
  type: number;
  offset: number;
  size: number;
  link: number;
  info: number;
}

export interface Layout {
  length: number;
  shoff: number;
  shnum: number;
  sections: Section[];
  // Offsets where one structure ends and another starts.
  boundaries: number[];
}

const SHT_SYMTAB = 2;
const SHT_RELA = 4;
const SHT_REL = 9;
const SHT_SYMTAB_SHNDX = 18;

export function layoutOf(b: Uint8Array): Layout | undefined {
  if (b.length < 64 || b[0] !== 0x7f || b[1] !== 0x45) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const shoff = Number(v.getBigUint64(40, true));
  const shnum = v.getUint16(60, true);
  const shstrndx = v.getUint16(62, true);
  if (shoff + shnum * 64 > b.length) return undefined;
  const sections: Section[] = [];
  for (let i = 0; i < shnum; i++) {
    const h = shoff + i * 64;
    const size = Number(v.getBigUint64(h + 32, true));
    sections.push({ index: i, header: h, name: '', type: v.getUint32(h + 4, true),
      offset: Number(v.getBigUint64(h + 24, true)), size, link: v.getUint32(h + 40, true),
      info: v.getUint32(h + 44, true) });
  }
  const strtab = sections[shstrndx];
  for (const s of sections) {
    if (!strtab) break;
    const at = strtab.offset + v.getUint32(s.header, true);
    let end = at;
    while (end < b.length && end < strtab.offset + strtab.size && b[end] !== 0) end++;
    s.name = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1', at, end);
  }
  const boundaries = [0, 16, 52, 64, shoff, shoff + shnum * 64];
  for (const s of sections) {
    boundaries.push(s.header, s.offset, s.offset + s.size);
    const ent = s.type === SHT_SYMTAB ? 24 : s.type === SHT_RELA ? 24
      : s.name === '__versions' ? 64 : 0;
    // Entry boundaries of the first few entries and of the last one.
    if (ent) {
      for (let k = 1; k <= 3; k++) boundaries.push(s.offset + k * ent);
      boundaries.push(s.offset + s.size - ent);
    }
  }
  const marker = b.length - 28;
  if (marker > 12) boundaries.push(marker, marker - 12);
  const inside = [...new Set(boundaries)].filter((x) => x > 0 && x < b.length);
  return { length: b.length, shoff, shnum, sections, boundaries: inside.sort((x, y) => x - y) };
}

// Values that break size arithmetic: around 2^31, 2^32, 2^53, 2^63, 2^64 and the file length.
function interesting(len: number): bigint[] {
  return [0n, 1n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x100000001n,
    (1n << 53n) + 1n, 0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffffffffffffn,
    0xfffffffffffffff0n, BigInt(len), BigInt(len + 1), BigInt(Math.max(0, len - 1))];
}

function set(b: Uint8Array, at: number, size: 1 | 2 | 4 | 8, value: bigint) {
  if (at < 0 || at + size > b.length) return;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const masked = BigInt.asUintN(size * 8, value);
  if (size === 1) v.setUint8(at, Number(masked));
  else if (size === 2) v.setUint16(at, Number(masked), true);
  else if (size === 4) v.setUint32(at, Number(masked), true);
  else v.setBigUint64(at, masked, true);
}

type Mutation = (b: Uint8Array, l: Layout, r: Rng) => Uint8Array;

const SHDR_FIELDS: [number, 2 | 4 | 8][] = [[0, 4], [4, 4], [8, 8], [16, 8], [24, 8], [32, 8],
  [40, 4], [44, 4], [48, 8], [56, 8]];
const EHDR_FIELDS: [number, 1 | 2 | 4 | 8][] = [[4, 1], [5, 1], [16, 2], [18, 2], [20, 4],
  [40, 8], [52, 2], [58, 2], [60, 2], [62, 2]];

function named(l: Layout, pred: (s: Section) => boolean): Section | undefined {
  const all = l.sections.filter(pred);
  return all.length ? all[0] : undefined;
}

function region(b: Uint8Array, l: Layout, r: Rng): [number, number] {
  const kinds = ['ehdr', 'shdrs', 'symtab', 'rela', 'modinfo', 'versions', 'strings',
    'signature', 'any'];
  const k = r.pick(kinds);
  const sec = (p: (s: Section) => boolean): [number, number] | undefined => {
    const s = named(l, p);
    return s && s.offset + s.size <= b.length ? [s.offset, s.offset + s.size] : undefined;
  };
  const pickRela = () => {
    const all = l.sections.filter((s) => s.type === SHT_RELA && s.offset + s.size <= b.length);
    const s = all.length ? r.pick(all) : undefined;
    return s ? [s.offset, s.offset + s.size] as [number, number] : undefined;
  };
  const found = k === 'ehdr' ? [0, 64] as [number, number]
    : k === 'shdrs' ? [l.shoff, l.shoff + l.shnum * 64] as [number, number]
      : k === 'symtab' ? sec((s) => s.type === SHT_SYMTAB)
        : k === 'rela' ? pickRela()
          : k === 'modinfo' ? sec((s) => s.name === '.modinfo')
            : k === 'versions' ? sec((s) => s.name === '__versions')
              : k === 'strings' ? sec((s) => s.name === '.strtab')
                : k === 'signature' ? signatureOf(b)
                  : undefined;
  return found && found[1] > found[0] ? found : [0, b.length];
}

const SIG_MARKER = '~Module signature appended~\n';

// The PKCS#7 blob and struct module_signature of a signed module, when there is one.
export function signatureOf(b: Uint8Array): [number, number] | undefined {
  const tail = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1',
    Math.max(0, b.length - 28));
  if (tail !== SIG_MARKER || b.length < 40) return undefined;
  const info = b.length - 40;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const sigLen = v.getUint32(info + 8, false);
  return sigLen <= info ? [info - sigLen, b.length - 28] : [info, b.length - 28];
}

const mutations: Record<string, Mutation> = {
  truncate(b, l, r) {
    const at = r.pick(l.boundaries) + r.pick([-1, 0, 0, 1]);
    return b.slice(0, Math.max(0, Math.min(b.length - 1, at)));
  },
  flip(b, l, r) {
    const [from, to] = region(b, l, r);
    const out = b.slice();
    for (let n = 1 + r.below(4); n > 0; n--) {
      const at = from + r.below(to - from);
      out[at] = r.chance(0.5) ? out[at] ^ (1 << r.below(8)) : r.pick([0, 0xff, 0x7f, 0x80]);
    }
    return out;
  },
  ehdrField(b, l, r) {
    const out = b.slice();
    const [at, size] = r.pick(EHDR_FIELDS);
    set(out, at, size, r.pick(interesting(b.length)));
    return out;
  },
  shdrField(b, l, r) {
    if (!l.sections.length) return b;
    const out = b.slice();
    const s = r.pick(l.sections);
    const [at, size] = r.pick(SHDR_FIELDS);
    set(out, s.header + at, size, r.chance(0.7) ? r.pick(interesting(b.length))
      : BigInt(r.below(l.shnum + 2)));
    return out;
  },
  // A section placed over another one, or past the end of the file.
  misplace(b, l, r) {
    if (l.sections.length < 2) return b;
    const out = b.slice();
    const s = r.pick(l.sections.slice(1));
    const other = r.pick(l.sections);
    const choice = r.below(3);
    if (choice === 0) set(out, s.header + 24, 8, BigInt(other.offset));
    else if (choice === 1) set(out, s.header + 24, 8, BigInt(b.length - r.below(16)));
    else set(out, s.header + 32, 8, BigInt(b.length - s.offset + 1 + r.below(64)));
    return out;
  },
  // sh_link and sh_info pointing at themselves or each other.
  linkCycle(b, l, r) {
    const rels = l.sections.filter((s) => s.type === SHT_RELA || s.type === SHT_REL
      || s.type === SHT_SYMTAB);
    if (!rels.length) return b;
    const out = b.slice();
    const s = r.pick(rels);
    const to = r.chance(0.5) ? s.index : r.pick(rels).index;
    set(out, s.header + (r.chance(0.6) ? 40 : 44), 4, BigInt(to));
    return out;
  },
  // Strings without their NUL: in .modinfo, the string tables, __versions names.
  unterminate(b, l, r) {
    const tabs = l.sections.filter((s) => s.offset + s.size <= b.length && s.size > 0
      && ['.modinfo', '.strtab', '.shstrtab', '__versions', '.gnu.linkonce.this_module']
        .includes(s.name));
    if (!tabs.length) return b;
    const out = b.slice();
    const s = r.pick(tabs);
    const all = r.chance(0.3);
    for (let i = s.offset + s.size - 1; i >= s.offset; i--) {
      if (out[i] === 0) {
        out[i] = 0x41;
        if (!all) break;
      }
    }
    return out;
  },
  // Extended section numbering: e_shnum 0 or e_shstrndx SHN_XINDEX with section 0 carrying the
  // real values (or not), symbols with st_shndx SHN_XINDEX, an SHT_SYMTAB_SHNDX section.
  xindex(b, l, r) {
    if (!l.sections.length) return b;
    const out = b.slice();
    const s0 = l.sections[0].header;
    const c = r.below(4);
    if (c === 0) {
      set(out, 60, 2, 0n);
      if (r.chance(0.7)) set(out, s0 + 32, 8, BigInt(l.shnum));
    } else if (c === 1) {
      set(out, 62, 2, 0xffffn);
      if (r.chance(0.7)) set(out, s0 + 40, 4, BigInt(r.below(l.shnum + 1)));
    } else if (c === 2) {
      const sym = named(l, (s) => s.type === SHT_SYMTAB);
      if (sym && sym.size >= 48) {
        const e = sym.offset + 24 * (1 + r.below(Math.floor(sym.size / 24) - 1));
        set(out, e + 6, 2, 0xffffn);
      }
    } else {
      const sym = named(l, (s) => s.type === SHT_SYMTAB);
      const victim = r.pick(l.sections.slice(1));
      if (sym && victim) {
        set(out, victim.header + 4, 4, BigInt(SHT_SYMTAB_SHNDX));
        set(out, victim.header + 40, 4, BigInt(sym.index));
      }
    }
    return out;
  },
  // A relocation whose symbol index is past the table, or whose offset is past its section.
  relocEntry(b, l, r) {
    const rels = l.sections.filter((s) => s.type === SHT_RELA && s.size >= 24
      && s.offset + s.size <= b.length);
    if (!rels.length) return b;
    const out = b.slice();
    const s = r.pick(rels);
    const e = s.offset + 24 * r.below(Math.floor(s.size / 24));
    const symtab = l.sections[s.link];
    const count = symtab ? Math.floor(symtab.size / 24) : 0;
    const target = l.sections[s.info];
    const c = r.below(3);
    if (c === 0) set(out, e + 12, 4, r.pick([BigInt(count), BigInt(count + 1), 0xffffffffn]));
    else if (c === 1) {
      const end = target ? target.size : 0;
      set(out, e, 8, r.pick([BigInt(end), BigInt(end - 1), BigInt(end + 3), 0xfffffffffffffffcn]));
    } else set(out, e + 8, 4, BigInt(r.below(64)));
    return out;
  },
  symbolEntry(b, l, r) {
    const sym = named(l, (s) => s.type === SHT_SYMTAB);
    if (!sym || sym.size < 48 || sym.offset + sym.size > b.length) return b;
    const out = b.slice();
    const e = sym.offset + 24 * r.below(Math.floor(sym.size / 24));
    const fields: [number, 1 | 2 | 4 | 8][] = [[0, 4], [4, 1], [6, 2], [8, 8], [16, 8]];
    const [at, size] = r.pick(fields);
    set(out, e + at, size, r.chance(0.5) ? r.pick(interesting(b.length))
      : BigInt(r.below(l.shnum + 3)));
    return out;
  },
};

const generic: Record<string, (b: Uint8Array, r: Rng, other: Uint8Array) => Uint8Array> = {
  bytes(b, r) {
    if (!b.length) return new Uint8Array([r.below(256)]);
    const out = b.slice();
    for (let n = 1 + r.below(8); n > 0; n--) out[r.below(out.length)] = r.below(256);
    return out;
  },
  cut(b, r) {
    return b.slice(0, r.below(b.length + 1));
  },
  insert(b, r) {
    const at = r.below(b.length + 1);
    const add = new Uint8Array(1 + r.below(32)).map(() => r.pick([0, 0xff, 0x3d, 0x41,
      r.below(256)]));
    return concat(b.subarray(0, at), add, b.subarray(at));
  },
  erase(b, r) {
    const at = r.below(b.length + 1);
    return concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + r.below(64))));
  },
  splice(b, r, other) {
    const at = r.below(b.length + 1);
    const from = r.below(other.length + 1);
    return concat(b.subarray(0, at), other.subarray(from, from + 1 + r.below(256)));
  },
};

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export const MAX_INPUT = 1 << 20;

// One to four mutations in a row; structure-aware ones when the input still has a layout.
export function mutate(input: Uint8Array, r: Rng, other: Uint8Array): Uint8Array {
  let b = input;
  for (let n = 1 + r.below(r.chance(0.5) ? 1 : 4); n > 0; n--) {
    const l = layoutOf(b);
    if (l && r.chance(0.75)) b = mutations[r.pick(Object.keys(mutations))](b, l, r);
    else b = generic[r.pick(Object.keys(generic))](b, r, other);
  }
  return b.length > MAX_INPUT ? b.subarray(0, MAX_INPUT) : b;
}

export const STRUCTURED_MUTATIONS = Object.keys(mutations);
export const structured = mutations;

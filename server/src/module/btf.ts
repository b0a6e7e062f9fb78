// BTF, as far as a load needs it: the header of a .BTF section and a walk over its types
// (include/uapi/linux/btf.h). A module's .BTF is split BTF on top of the kernel's: its type ids
// continue after the vmlinux ones and its string offsets after the vmlinux string section.

export const BTF_MAGIC = 0xeb9f;
const BTF_MAX_NAME_OFFSET = 0xffffff;

export interface BtfHeader {
  typeOff: number;
  typeLen: number;
  strOff: number;
  strLen: number;
  hdrLen: number;
}

export class BtfFormatError extends Error {}

export function readBtfHeader(data: Uint8Array): BtfHeader {
  if (data.length < 24) {
    throw new BtfFormatError(`.BTF is ${data.length} bytes, shorter than its header`);
  }
  const v = new DataView(data.buffer, data.byteOffset, data.length);
  if (v.getUint16(0, true) !== BTF_MAGIC) {
    throw new BtfFormatError(`.BTF magic is 0x${v.getUint16(0, true).toString(16)}, not 0xeb9f`);
  }
  const h = { hdrLen: v.getUint32(4, true), typeOff: v.getUint32(8, true),
    typeLen: v.getUint32(12, true), strOff: v.getUint32(16, true), strLen: v.getUint32(20, true) };
  if (h.hdrLen + h.typeOff + h.typeLen > data.length
    || h.hdrLen + h.strOff + h.strLen > data.length) {
    throw new BtfFormatError('.BTF type or string section runs past the section');
  }
  return h;
}

// Bytes that follow the 12-byte struct btf_type for each kind.
function tailSize(kind: number, vlen: number): number {
  switch (kind) {
    case 1: case 14: case 17: return 4; // int, var, decl_tag
    case 3: return 12; // array
    case 4: case 5: case 19: return vlen * 12; // struct, union, enum64
    case 6: case 13: return vlen * 8; // enum, func_proto
    case 15: return vlen * 12; // datasec
    default: return 0;
  }
}

// The size of one member record for the kinds whose members have names (at the record's
// start), else 0.
function namedMemberSize(kind: number): number {
  return kind === 4 || kind === 5 || kind === 19 ? 12 : kind === 6 ? 8 : 0;
}

// Visits every name offset of the type section in the order the kernel's meta check reads
// them: each type's own, then its members'. `visit` returns false to stop. Nothing is
// allocated, as a module's BTF has tens of thousands of types.
export function forEachBtfName(data: Uint8Array, h: BtfHeader,
  visit: (type: number, kind: number, name: number, member: boolean) => boolean): void {
  const v = new DataView(data.buffer, data.byteOffset, data.length);
  let at = h.hdrLen + h.typeOff;
  const end = at + h.typeLen;
  for (let type = 0; at + 12 <= end; type++) {
    const info = v.getUint32(at + 4, true);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    if (!visit(type, kind, v.getUint32(at, true), false)) return;
    const size = namedMemberSize(kind);
    for (let i = 0; size && i < vlen && at + 12 + i * size + 4 <= end; i++) {
      if (!visit(type, kind, v.getUint32(at + 12 + i * size, true), true)) return;
    }
    at += 12 + tailSize(kind, vlen);
  }
}

// What split BTF needs from the base: how many types it has and how long its strings are.
export interface BtfBase {
  types: number;
  stringsLength: number;
}

export function btfBaseOf(data: Uint8Array): BtfBase {
  const h = readBtfHeader(data);
  let types = 0;
  forEachBtfName(data, h, (_type, _kind, _name, member) => {
    if (!member) types++;
    return true;
  });
  return { types, stringsLength: h.strLen };
}

// btf_name_offset_valid() for split BTF: below the base's string length the name is the base's,
// past it the module's own strings must hold it.
export function nameOffsetValid(offset: number, base: BtfBase, ownStrings: number): boolean {
  if (offset > BTF_MAX_NAME_OFFSET) return false;
  if (offset < base.stringsLength) return true;
  return offset - base.stringsLength < ownStrings;
}

// `__param`: one `struct kernel_param` (40 bytes on 64-bit) per module parameter, decoded
// through its relocations: the name pointer, the ops pointer (whose target symbol,
// `param_ops_<type>` or `param_array_ops`, tells the type), perm, flags and the argument,
// which points at the variable, a `struct kparam_string` or a `struct kparam_array`.
// The default value is read from the variable's initial bytes and printed the way the
// parameter's sysfs file would print it.

import type { ElfFile, SectionHeader } from '../elf/index.js';
import type { KernelParamSpec, ParamType } from '../params/types.js';
import type { Modinfo } from './modinfo.js';
import type { Pointer, RelocatedView } from './pointers.js';

export const KERNEL_PARAM_SIZE = 40;

export interface ModuleParam extends KernelParamSpec {
  offset: number;
  level: number;
  // For arrays: every element's initial value, and the element count variable's value.
  arrayDefaults?: string[];
  arrayCount?: number;
  // Text that parse_args turns back into the default (the whole value, and each array
  // element), where one can be written: none for a NULL charp ("(null)" is what sysfs prints,
  // not an input), a value next_arg would cut at a blank or quote, an element holding a comma.
  defaultInput?: string;
  elementInputs?: (string | undefined)[];
  // The `parmtype=` and `parm=` modinfo entries of this parameter.
  parmtype?: string;
  description?: string;
  // Disagreements between __param and parmtype=, or parts that could not be decoded.
  problems: string[];
}

const STANDARD: Record<string, ParamType> = {
  param_ops_byte: 'byte', param_ops_short: 'short', param_ops_ushort: 'ushort',
  param_ops_int: 'int', param_ops_uint: 'uint', param_ops_long: 'long',
  param_ops_ulong: 'ulong', param_ops_ullong: 'ullong', param_ops_hexint: 'hexint',
  param_ops_charp: 'charp', param_ops_bool: 'bool', param_ops_invbool: 'invbool',
  param_ops_bint: 'bint', param_ops_bool_enable_only: 'bool_enable_only',
  param_ops_string: 'string',
};

// What `parmtype=` says for each type (include/linux/moduleparam.h __MODULE_PARM_TYPE).
const PARMTYPE_NAME: Partial<Record<ParamType, string>> = {
  byte: 'byte', short: 'short', ushort: 'ushort', int: 'int', uint: 'uint', long: 'long',
  ulong: 'ulong', ullong: 'ullong', hexint: 'hexint', charp: 'charp', bool: 'bool',
  invbool: 'invbool', bint: 'bint', string: 'string', bool_enable_only: 'bool_enable_only',
};

const ELEMENT_SIZE: Partial<Record<ParamType, number>> = {
  byte: 1, short: 2, ushort: 2, int: 4, uint: 4, long: 8, ulong: 8, ullong: 8, hexint: 4,
  charp: 8, bool: 1, invbool: 1, bint: 4, bool_enable_only: 1,
};

export function readParams(elf: ElfFile, section: SectionHeader | undefined,
  relocated: RelocatedView, modinfo: Modinfo): ModuleParam[] {
  if (!section || !elf.is64) return [];
  const parmtypes = new Map<string, string>();
  for (const v of modinfo.getAll('parmtype')) {
    const colon = v.indexOf(':');
    if (colon > 0) parmtypes.set(v.slice(0, colon), v.slice(colon + 1));
  }
  const descriptions = new Map<string, string>();
  for (const v of modinfo.getAll('parm')) {
    const colon = v.indexOf(':');
    if (colon > 0 && !descriptions.has(v.slice(0, colon))) {
      descriptions.set(v.slice(0, colon), v.slice(colon + 1));
    }
  }
  const out: ModuleParam[] = [];
  // From the bytes in the file (ElfFormatError when outside it), not sh_size alone.
  const count = Math.floor(elf.sectionData(section).length / KERNEL_PARAM_SIZE);
  for (let i = 0; i < count; i++) {
    out.push(readParam(elf, section, i * KERNEL_PARAM_SIZE, relocated, parmtypes, descriptions));
  }
  return out;
}

function readParam(elf: ElfFile, section: SectionHeader, at: number, relocated: RelocatedView,
  parmtypes: Map<string, string>, descriptions: Map<string, string>): ModuleParam {
  const v = elf.view;
  const base = section.offset + at;
  const problems: string[] = [];
  const name = relocated.stringAt(relocated.pointerAt(section.index, at), 256) ?? '';
  if (!name) problems.push(`__param entry at offset ${at} has no name`);
  const perm = v.u16(base + 24);
  const level = (v.u8(base + 26) << 24) >> 24;
  const flags = v.u8(base + 27);
  const ops = relocated.pointerAt(section.index, at + 16);
  const arg = relocated.pointerAt(section.index, at + 32);
  const param: ModuleParam = {
    name, type: 'custom', perm, flags, offset: at, level, problems,
    parmtype: parmtypes.get(name), description: descriptions.get(name),
  };
  const opsName = opsSymbolName(elf, ops);
  if (opsName === 'param_array_ops') {
    readArray(elf, relocated, arg, param);
  } else if (opsName === 'param_ops_string') {
    param.type = 'string';
    param.stringMaxLen = u32At(elf, relocated, arg);
    const buffer = arg && arg.kind === 'place' ? relocated.pointerAt(arg.section, arg.offset + 8)
      : undefined;
    param.defaultValue = relocated.stringAt(buffer, param.stringMaxLen ?? 4096) ?? '';
    param.defaultInput = asInput(param.defaultValue);
  } else if (opsName && STANDARD[opsName]) {
    param.type = STANDARD[opsName];
    const value = scalarDefault(elf, relocated, param.type, arg);
    param.defaultValue = value?.shown;
    param.defaultInput = value?.input;
  } else {
    param.type = 'custom';
    if (opsName) param.opsSymbol = opsName;
  }
  crossCheck(param);
  return param;
}

function readArray(elf: ElfFile, relocated: RelocatedView, arg: Pointer | undefined,
  param: ModuleParam) {
  if (!arg || arg.kind !== 'place' || !relocated.bytesAt(arg, 32)) {
    param.problems.push('array parameter without a readable kparam_array');
    return;
  }
  param.arrayMax = u32At(elf, relocated, arg) ?? 0;
  const elemsize = u32At(elf, relocated, { ...arg, offset: arg.offset + 4 }) ?? 0;
  const elemOps = opsSymbolName(elf, relocated.pointerAt(arg.section, arg.offset + 16));
  param.type = elemOps && STANDARD[elemOps] ? STANDARD[elemOps] : 'custom';
  if (param.type === 'custom' && elemOps) param.opsSymbol = elemOps;
  const num = relocated.pointerAt(arg.section, arg.offset + 8);
  param.arrayHasCount = !!num;
  if (num) param.arrayCount = u32At(elf, relocated, num);
  const elem = relocated.pointerAt(arg.section, arg.offset + 24);
  if (!elem || elem.kind !== 'place' || param.type === 'custom') return;
  const defaults: string[] = [];
  const inputs: (string | undefined)[] = [];
  for (let i = 0; i < param.arrayMax && i < 4096; i++) {
    const one: Pointer = { ...elem, offset: elem.offset + i * elemsize };
    const value = scalarDefault(elf, relocated, param.type, one);
    defaults.push(value?.shown ?? '?');
    inputs.push(value?.input !== undefined && !value.input.includes(',') ? value.input
      : undefined);
  }
  param.arrayDefaults = defaults;
  param.elementInputs = inputs;
  // param_array_get prints *num elements when there is a count variable, else all of them.
  const shown = num ? param.arrayCount ?? 0 : param.arrayMax;
  param.defaultValue = defaults.slice(0, shown).join(',');
  // An empty value is one empty element to param_array_set, so no count of 0 can be written.
  const given = inputs.slice(0, shown);
  if (shown > 0 && given.every((v) => v !== undefined && v !== '')) {
    param.defaultInput = given.join(',');
  }
}

function opsSymbolName(elf: ElfFile, p: Pointer | undefined): string | undefined {
  if (!p) return undefined;
  if (p.kind === 'undefined') return p.name;
  const name = elf.symbols?.name(p.symbol);
  return name || undefined;
}

// A u32 through the relocated view, never straight from the file at sh_offset: a variable in
// .bss (NOBITS) has no file bytes, and whatever follows that offset is not its value (zero).
function u32At(elf: ElfFile, relocated: RelocatedView, p: Pointer | undefined):
  number | undefined {
  const bytes = relocated.bytesAt(p, 4);
  if (!bytes) return undefined;
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, elf.view.little);
}

// A string value as parse_args input: next_arg ends a value at a blank (and treats quotes
// specially), so a value with either cannot be given back unchanged.
function asInput(value: string | undefined): string | undefined {
  if (value === undefined || /[\s"]/.test(value)) return undefined;
  return value;
}

interface ScalarDefault {
  // As the parameter's sysfs `get` prints it.
  shown: string;
  // As parse_args input, when the value can be written.
  input?: string;
}

// The initial value of a scalar parameter. Every printed number and Y/N parses back to the
// same value; a charp's string does unless it is NULL or has a blank or quote.
function scalarDefault(elf: ElfFile, relocated: RelocatedView, type: ParamType,
  p: Pointer | undefined): ScalarDefault | undefined {
  if (type === 'charp') return charpDefault(relocated, p);
  const shown = printedScalar(elf, relocated, type, p);
  return shown === undefined ? undefined : { shown, input: shown };
}

function charpDefault(relocated: RelocatedView, p: Pointer | undefined):
  ScalarDefault | undefined {
  if (!p || p.kind !== 'place' || !relocated.bytesAt(p, 8)) return undefined;
  // The variable holds a pointer: its initial value is a relocation, or NULL.
  const target = relocated.pointerAt(p.section, p.offset);
  if (!target) return { shown: '(null)' };
  const text = relocated.stringAt(target);
  return text === undefined ? { shown: '?' } : { shown: text, input: asInput(text) };
}

function printedScalar(elf: ElfFile, relocated: RelocatedView, type: ParamType,
  p: Pointer | undefined): string | undefined {
  const size = ELEMENT_SIZE[type];
  if (!size) return undefined;
  const bytes = relocated.bytesAt(p, size);
  if (!bytes || !p || p.kind !== 'place') return undefined;
  const d = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = elf.view.little;
  switch (type) {
    case 'byte': return String(d.getUint8(0));
    case 'short': return String(d.getInt16(0, le));
    case 'ushort': return String(d.getUint16(0, le));
    case 'int': case 'bint': return String(d.getInt32(0, le));
    case 'uint': return String(d.getUint32(0, le));
    case 'long': return String(d.getBigInt64(0, le));
    case 'ulong': case 'ullong': return String(d.getBigUint64(0, le));
    case 'hexint': return '0x' + d.getUint32(0, le).toString(16).padStart(6, '0');
    case 'bool': case 'bool_enable_only': return d.getUint8(0) ? 'Y' : 'N';
    case 'invbool': return d.getUint8(0) ? 'N' : 'Y';
    default: return undefined;
  }
}

function crossCheck(param: ModuleParam) {
  if (param.parmtype === undefined) return;
  const expected = param.type === 'custom' ? undefined : PARMTYPE_NAME[param.type];
  if (!expected) return;
  const want = param.arrayMax !== undefined ? `array of ${expected}` : expected;
  if (param.parmtype !== want) {
    param.problems.push(`parmtype says '${param.parmtype}' but __param says '${want}'`);
  }
}

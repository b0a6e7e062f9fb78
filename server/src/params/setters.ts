// The standard kernel_param_ops of kernel/params.c (6.1/6.12): what each `param_ops_<type>` set()
// accepts, the messages it prints itself, and the value its get() then shows in
// /sys/module/<module>/parameters/<name> (without get()'s trailing newline).

import { EINVAL, ENOSPC, EROFS } from '../load/errno.js';
import { KERN_ERR, line, type KernelLine } from '../load/kmsg.js';
import type { KernelParamSpec, ParamType } from './types.js';
import type { ArgBuffer, CString } from './next-arg.js';
import {
  kstrtobool, kstrtoint, kstrtol, kstrtos16, kstrtou16, kstrtou8, kstrtouint, kstrtoul,
  kstrtoull, type Kstrto,
} from './kstrto.js';

export interface SetOutcome {
  // 0, or the positive errno set() returned.
  errno: number;
  // The sysfs text after a successful set.
  value?: string;
}

export interface SetContext {
  // Messages set() prints itself (pr_err with kp->name), appended in order.
  lines: KernelLine[];
  // What this simulator cannot know, for ParseArgsResult.notes.
  notes: string[];
}

// KERNEL_PARAM_OPS_FL_NOARG is set only on param_ops_bool, param_ops_bool_enable_only and
// param_ops_bint; param_array_ops has no flags, so arrays of any type need `=`.
export function opsTakeNoArg(spec: KernelParamSpec): boolean {
  if (spec.arrayMax !== undefined) return false;
  return spec.type === 'bool' || spec.type === 'bool_enable_only' || spec.type === 'bint';
}

// param_set_charp(): kmalloc'd copies are limited to 1024 bytes.
const CHARP_MAX = 1024;

type Parser = (s: string, base?: number) => Kstrto<bigint>;

// STANDARD_PARAM_DEF(): every integer type parses with base 0; get() formats as below.
const integerParsers: Partial<Record<ParamType, Parser>> = {
  byte: kstrtou8,
  short: kstrtos16,
  ushort: kstrtou16,
  int: kstrtoint,
  uint: kstrtouint,
  long: kstrtol,
  ulong: kstrtoul,
  ullong: kstrtoull,
  hexint: kstrtouint,
};

// param_get_hexint() prints "%#08x": the width 8 includes the "0x", and the kernel's vsprintf
// (unlike glibc) keeps the prefix for zero too.
function formatInteger(type: ParamType, value: bigint): string {
  if (type === 'hexint') return '0x' + value.toString(16).padStart(6, '0');
  return value.toString(10);
}

function yn(value: boolean): string {
  return value ? 'Y' : 'N';
}

// One scalar set() call. `name` is kp->name: the parameter's own name, or the array's for an
// element (param_array() gives its element kernel_param the array's name).
export function paramSetScalar(spec: KernelParamSpec, name: string, val: CString | null,
                               current: string | undefined, ctx: SetContext): SetOutcome {
  const parse = integerParsers[spec.type];
  if (parse) {
    if (val === null) return { errno: EINVAL };
    const r = parse(val.text, 0);
    return r.ok ? { errno: 0, value: formatInteger(spec.type, r.value) } : { errno: r.errno };
  }

  switch (spec.type) {
    case 'bool':
    case 'bint': {
      // param_set_bool(): a bare name means "1"; bint stores the same result as an int.
      const r = kstrtobool(val === null ? '1' : val.text);
      if (!r.ok) return { errno: r.errno };
      return { errno: 0, value: spec.type === 'bool' ? yn(r.value) : r.value ? '1' : '0' };
    }

    case 'invbool': {
      // The variable holds the inverse, and param_get_invbool() inverts it back, so sysfs
      // shows what was given.
      const r = kstrtobool(val === null ? null : val.text);
      return r.ok ? { errno: 0, value: yn(r.value) } : { errno: r.errno };
    }

    case 'bool_enable_only':
      return setBoolEnableOnly(spec, val, current, ctx);

    case 'charp': {
      if (val === null) return { errno: EINVAL };
      if (val.length > CHARP_MAX) {
        ctx.lines.push(line(KERN_ERR, `${name}: string parameter too long`));
        return { errno: ENOSPC };
      }
      return { errno: 0, value: val.text };
    }

    case 'string':
      return setCopystring(spec, name, val, ctx);

    case 'custom':
      return setCustom(spec, val, ctx);

    default:
      return { errno: EINVAL };
  }
}

// param_set_bool_enable_only(): once true it cannot be cleared (-EROFS); a false value on a
// false variable is accepted without a write.
function setBoolEnableOnly(spec: KernelParamSpec, val: CString | null,
                           current: string | undefined, ctx: SetContext): SetOutcome {
  const r = kstrtobool(val === null ? '1' : val.text);
  if (!r.ok) return { errno: r.errno };

  if (current === undefined && !r.value) {
    ctx.notes.push(`${spec.name}: current value unknown; assumed N, so clearing it is accepted`);
  }
  const wasSet = current === 'Y';
  if (!r.value && wasSet) return { errno: EROFS };
  return { errno: 0, value: r.value ? 'Y' : current ?? 'N' };
}

// param_set_copystring(): the value must leave room for the NUL in kparam_string.maxlen.
function setCopystring(spec: KernelParamSpec, name: string, val: CString | null,
                       ctx: SetContext): SetOutcome {
  if (val === null) return { errno: EINVAL };
  const maxlen = spec.stringMaxLen;
  if (maxlen === undefined) {
    ctx.notes.push(`${spec.name}: string buffer size unknown; '${val.text}' assumed to fit`);
    return { errno: 0, value: val.text };
  }
  if (val.length >= maxlen) {
    ctx.lines.push(line(KERN_ERR, `${name}: string doesn't fit in ${maxlen - 1} chars.`));
    return { errno: ENOSPC };
  }
  return { errno: 0, value: val.text };
}

// module_param_cb() with the module's own ops: set() is module code we do not run.
function setCustom(spec: KernelParamSpec, val: CString | null, ctx: SetContext): SetOutcome {
  const ops = spec.opsSymbol ?? 'a local kernel_param_ops';
  const shown = val === null ? 'no value' : `'${val.text}'`;
  ctx.notes.push(`${spec.name}: set() of ${ops} not simulated; ${shown} assumed accepted`);

  // Its get() is module code too, so the sysfs value stays unknown.
  return { errno: 0 };
}

// param_array_set() -> param_array() with min 1: each element is cut at the next ',' by writing
// a NUL into the argument buffer, so the caller's error line later shows only the first
// element. Elements already set before an error stay set, as in the kernel.
export function paramArraySet(spec: KernelParamSpec, buf: ArgBuffer, valOffset: number,
                              ctx: SetContext, current?: string): SetOutcome {
  const max = spec.arrayMax ?? 0;
  const elements: string[] = [];
  let offset = valOffset;
  let separator: number;

  do {
    if (elements.length === max) {
      ctx.lines.push(line(KERN_ERR, `${spec.name}: can only take ${max} arguments`));
      return { errno: EINVAL };
    }

    let end = offset;
    while (buf.at(end) !== 0 && buf.at(end) !== 0x2c) end++;
    separator = buf.at(end);
    buf.cut(end);

    const element = paramSetScalar(spec, spec.name, buf.cstring(offset), undefined, ctx);
    if (element.errno !== 0) return element;
    elements.push(element.value ?? '');
    offset = end + 1;
  } while (separator === 0x2c);

  // param_array_get() shows *num elements, or all max of them when there is no count variable:
  // then the ones not given keep what they held (`current`, the value sysfs showed before).
  if (spec.arrayHasCount === false && current !== undefined) {
    return { errno: 0, value: [...elements, ...current.split(',').slice(elements.length)]
      .join(',') };
  }
  return { errno: 0, value: elements.join(',') };
}

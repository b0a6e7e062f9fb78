// kernel/params.c parse_args() and parse_one() as load_module() calls them for a module (6.1 and
// 6.12 agree): parse_args(mod->name, mod->args, mod->kp, mod->num_kp, -32768, 32767, mod,
// unknown_module_param_cb). The level filter accepts every parameter, so it is not modelled.

import { EINVAL, ENOSPC, EPERM } from '../load/errno.js';
import { KERN_ERR, KERN_NOTICE, KERN_WARNING, line, type KernelLine } from '../load/kmsg.js';
import {
  KERNEL_PARAM_FL_HWPARAM, KERNEL_PARAM_FL_UNSAFE, type KernelParamSpec,
} from './types.js';
import { ArgBuffer, nextArg, skipSpaces } from './next-arg.js';
import { kstrtobool } from './kstrto.js';
import { opsTakeNoArg, paramArraySet, paramSetScalar, type SetContext, type SetOutcome } from
  './setters.js';

export interface ParseArgsOptions {
  // The kernel is locked down (integrity or confidentiality): HWPARAM parameters are refused.
  lockdown?: boolean;
  // current->comm of the loading process, named by the Lockdown message. Default 'insmod'.
  comm?: string;
}

export interface ParamAssignment {
  // The kernel_param name that matched.
  param: string;
  // The value text as set() received it; null for a bare name.
  raw: string | null;
  // The sysfs text afterwards, when set() succeeded.
  value?: string;
  // 0, or the positive errno of this parameter.
  errno: number;
}

export interface ParseArgsResult {
  // 0, or the positive errno of the last failing parameter (the load then fails).
  errno: number;
  lines: KernelLine[];
  // A KERNEL_PARAM_FL_UNSAFE parameter was set: taint U.
  unsafeTaint: boolean;
  assignments: ParamAssignment[];
  values: Map<string, string>;
  notes: string[];
  // mod->async_probe_requested when an `async_probe` argument was given.
  asyncProbe?: boolean;
  // The text after a bare `--` when parsing stopped there without an earlier error.
  afterDashes?: string;
}

const DASH = 0x2d;
const UNDERSCORE = 0x5f;
const DOT = 0x2e;

// parameq(): a byte compare in which '-' in the argument matches '_' in the name, and '-' in
// the name matches '-' or '_' in the argument (both sides go through dash2underscore).
export function parameq(input: string, name: string): boolean {
  if (input.length !== name.length) return false;
  for (let i = 0; i < input.length; i++) {
    const a = input.charCodeAt(i) === DASH ? UNDERSCORE : input.charCodeAt(i);
    const b = name.charCodeAt(i) === DASH ? UNDERSCORE : name.charCodeAt(i);
    if (a !== b) return false;
  }
  return true;
}

interface ParseState {
  moduleName: string;
  opts: ParseArgsOptions;
  result: ParseArgsResult;
}

// ddebug_dyndbg_module_param_cb() (CONFIG_DYNAMIC_DEBUG=y on Debian): the first '.' of the
// name is overwritten with a NUL before the comparison, which is why an unknown "a.b" is then
// reported as 'a'. Returns whether dynamic debug took the argument.
function ddebugDyndbgParam(buf: ArgBuffer, paramOffset: number, val: string | null,
                           state: ParseState): boolean {
  let nameStart = paramOffset;
  let dot = paramOffset;
  while (buf.at(dot) !== 0 && buf.at(dot) !== DOT) dot++;
  if (buf.at(dot) === DOT) {
    buf.cut(dot);
    nameStart = dot + 1;
  }
  if (buf.cstring(nameStart).text !== 'dyndbg') return false;

  // The query result is ignored for the load, but a malformed query prints its own errors.
  const query = val ?? '+p';
  if (!/^[-+=][pmfltd_]*$/.test(query)) {
    state.result.notes.push(`dyndbg query '${query}' not evaluated; its messages are not shown`);
  }
  return true;
}

// unknown_module_param_cb() (kernel/module/main.c): never fails the load.
function unknownModuleParam(buf: ArgBuffer, paramOffset: number, val: string | null,
                            state: ParseState): void {
  // An exact strcmp, not parameq: "async-probe" is not recognised.
  if (buf.cstring(paramOffset).text === 'async_probe') {
    const r = kstrtobool(val);
    state.result.asyncProbe = r.ok ? r.value : true;
    return;
  }

  if (ddebugDyndbgParam(buf, paramOffset, val, state)) return;

  const shown = buf.cstring(paramOffset).text;
  state.result.lines.push(
    line(KERN_WARNING, `${state.moduleName}: unknown parameter '${shown}' ignored`));
}

// param_check_unsafe(): HWPARAM under lockdown is refused before UNSAFE is even looked at.
function paramCheckUnsafe(spec: KernelParamSpec, state: ParseState): boolean {
  if (spec.flags & KERNEL_PARAM_FL_HWPARAM && state.opts.lockdown) {
    // security/lockdown/lockdown.c lockdown_is_locked_down(), pr_notice_ratelimited (more than
    // 10 refusals within 5 s would be suppressed; not modelled).
    const comm = state.opts.comm ?? 'insmod';
    state.result.lines.push(line(KERN_NOTICE,
      `Lockdown: ${comm}: unsafe module parameters is restricted; see man kernel_lockdown.7`));
    return false;
  }

  if (spec.flags & KERNEL_PARAM_FL_UNSAFE) {
    state.result.lines.push(
      line(KERN_NOTICE, `Setting dangerous option ${spec.name} - tainting kernel`));
    state.result.unsafeTaint = true;
  }
  return true;
}

// parse_one(): the first kernel_param whose name parameq()s wins.
function parseOne(buf: ArgBuffer, paramOffset: number, valOffset: number | null,
                  params: KernelParamSpec[], state: ParseState): number {
  const name = buf.cstring(paramOffset).text;
  const val = valOffset === null ? null : buf.cstring(valOffset);
  const spec = params.find((p) => parameq(name, p.name));
  if (!spec) {
    unknownModuleParam(buf, paramOffset, val?.text ?? null, state);
    return 0;
  }

  const assignment: ParamAssignment = { param: spec.name, raw: val?.text ?? null, errno: 0 };
  state.result.assignments.push(assignment);

  let outcome: SetOutcome;
  if (val === null && !opsTakeNoArg(spec) && spec.type !== 'custom') {
    outcome = { errno: EINVAL };
  } else if (val === null && spec.type === 'custom') {
    // Whether custom ops carry KERNEL_PARAM_OPS_FL_NOARG is not decoded; almost none do.
    state.result.notes.push(`${spec.name}: custom ops assumed to lack NOARG, so a bare name fails`);
    outcome = { errno: EINVAL };
  } else if (!paramCheckUnsafe(spec, state)) {
    outcome = { errno: EPERM };
  } else {
    const ctx: SetContext = { lines: state.result.lines, notes: state.result.notes };
    outcome = spec.arrayMax !== undefined && valOffset !== null
      ? paramArraySet(spec, buf, valOffset, ctx, state.result.values.get(spec.name))
      : paramSetScalar(spec, spec.name, val, state.result.values.get(spec.name), ctx);
  }

  assignment.errno = outcome.errno;
  if (outcome.errno === 0 && outcome.value !== undefined) {
    assignment.value = outcome.value;
    state.result.values.set(spec.name, outcome.value);
  }
  return outcome.errno;
}

function initialValues(params: KernelParamSpec[]): Map<string, string> {
  const values = new Map<string, string>();
  for (const p of params) {
    if (p.defaultValue !== undefined && !values.has(p.name)) values.set(p.name, p.defaultValue);
  }
  return values;
}

// parse_args(): keeps going after a failure, printing one line per failing parameter, and
// returns the last error; a bare `--` stops it and returns `err ?: rest`. The "after `--'
// ignored" warning is load_module()'s, printed only when no error came first; it is included
// in `lines` so the result reads as the load's log.
export function parseArgs(moduleName: string, args: string | Uint8Array,
                          params: KernelParamSpec[], opts: ParseArgsOptions = {}):
  ParseArgsResult {
  const result: ParseArgsResult = {
    errno: 0, lines: [], unsafeTaint: false, assignments: [], values: initialValues(params),
    notes: [],
  };
  const state: ParseState = { moduleName, opts, result };
  const buf = ArgBuffer.from(args);
  let offset = skipSpaces(buf, 0);

  while (buf.at(offset) !== 0) {
    const arg = nextArg(buf, offset);
    offset = arg.next;

    if (arg.val === null && buf.cstring(arg.param).text === '--') {
      if (result.errno === 0) reportAfterDashes(buf.cstring(offset).text, state);
      return result;
    }

    const ret = parseOne(buf, arg.param, arg.val, params, state);
    if (ret === 0) continue;

    // Read after set(): an array's in-place cut shortens the value shown here.
    const val = arg.val === null ? '' : buf.cstring(arg.val).text;
    const param = buf.cstring(arg.param).text;
    const how = ret === ENOSPC ? 'too large for' : 'invalid for';
    result.lines.push(line(KERN_ERR, `${moduleName}: \`${val}' ${how} parameter \`${param}'`));
    result.errno = ret;
  }

  return result;
}

function reportAfterDashes(rest: string, state: ParseState): void {
  state.result.afterDashes = rest;
  state.result.lines.push(line(KERN_WARNING,
    `${state.moduleName}: parameters '${rest}' after \`--' ignored`));
}

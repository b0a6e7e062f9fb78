// Module parameter parsing as load_module() does it (kernel/params.c, lib/cmdline.c,
// lib/kstrtox.c).

export { parseArgs, parameq } from './parse-args.js';
export type { ParamAssignment, ParseArgsOptions, ParseArgsResult } from './parse-args.js';
export { ArgBuffer, isspace, nextArg, skipSpaces, splitArgs } from './next-arg.js';
export type { ArgToken, CString, NextArg, SplitArgs } from './next-arg.js';
export {
  kstrtobool, kstrtoint, kstrtol, kstrtoll, kstrtos16, kstrtos8, kstrtou16, kstrtou8, kstrtouint,
  kstrtoul, kstrtoull,
} from './kstrto.js';
export type { Kstrto } from './kstrto.js';
export { opsTakeNoArg, paramArraySet, paramSetScalar } from './setters.js';
export type { SetContext, SetOutcome } from './setters.js';
export type { KernelParamSpec, ParamType } from './types.js';
export { KERNEL_PARAM_FL_HWPARAM, KERNEL_PARAM_FL_UNSAFE } from './types.js';

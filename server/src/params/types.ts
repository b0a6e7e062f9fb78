// What the loader knows about one `struct kernel_param` of a module, decoded from `__param`
// and its relocations (see module/params.ts). parse_args works on these.

// The standard kernel_param_ops of kernel/params.c, named by the `param_ops_<type>` symbol that
// a `__param` entry's ops pointer is relocated against. `custom` is any other ops
// (module_param_cb).
export type ParamType =
  | 'byte' | 'short' | 'ushort' | 'int' | 'uint' | 'long' | 'ulong' | 'ullong' | 'hexint'
  | 'charp' | 'bool' | 'invbool' | 'bint' | 'bool_enable_only' | 'string' | 'custom';

export const KERNEL_PARAM_FL_UNSAFE = 1;
export const KERNEL_PARAM_FL_HWPARAM = 2;

export interface KernelParamSpec {
  name: string;
  // The element type for arrays, the only type otherwise.
  type: ParamType;
  // Set for module_param_array: kparam_array.max.
  arrayMax?: number;
  // False for module_param_array(..., NULL, ...): with no count variable sysfs shows all max
  // elements, those not given keeping their earlier values.
  arrayHasCount?: boolean;
  // Set for module_param_string: kparam_string.maxlen, the buffer size including the NUL.
  stringMaxLen?: number;
  perm: number;
  // kernel_param.flags (KERNEL_PARAM_FL_*).
  flags: number;
  // For `custom`: the name of the ops symbol, when the symbol table has one.
  opsSymbol?: string;
  // The current value as the kernel would show it (from the variable's initial bytes), when known.
  defaultValue?: string;
}

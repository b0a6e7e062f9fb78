// How a module parameter is shown in completions and hovers: its type as `modinfo` prints
// it (parmtype), its line of `kmodsim modinfo`'s parameter block (type, sysfs permission,
// default, array count), its description, and its flags.

import type { ModuleParam } from '../module/params.js';
import type { ModuleFacts } from './simulate.js';

// The parameter's line of `kmodsim modinfo`'s block, without its indentation.
export function defaultsLine(facts: ModuleFacts, name: string): string | undefined {
  return facts.defaultsLines.get(name);
}

export function typeOf(p: ModuleParam): string {
  if (p.parmtype) return p.parmtype;
  if (p.type === 'custom') return 'custom';
  return p.arrayMax !== undefined ? `array of ${p.type}` : p.type;
}

function defaultOf(p: ModuleParam): string {
  if (p.type === 'custom') return 'default unknown';
  if (p.defaultValue === undefined) return 'default unknown';
  return `default ${p.defaultValue === '' ? '""' : p.defaultValue}`;
}

export function paramDetail(p: ModuleParam): string {
  return `${typeOf(p)}, ${defaultOf(p)}`;
}

function flags(p: ModuleParam): string[] {
  const out: string[] = [];
  if (p.flags & 1) out.push('unsafe: setting it taints the kernel (U)');
  if (p.flags & 2) out.push('hwparam: refused under lockdown');
  return out;
}

export function paramDocumentation(facts: ModuleFacts, p: ModuleParam): string {
  const lines: string[] = [];
  if (p.description) lines.push(p.description);
  lines.push(`perm ${p.perm.toString(8).padStart(4, '0')}` +
    (p.perm === 0 ? ' (no sysfs file)' : ''));
  if (p.arrayMax !== undefined) {
    lines.push(`array: at most ${p.arrayMax} elements` +
      (p.arrayCount !== undefined ? `, ${p.arrayCount} set by default` : ''));
  }
  if (p.type === 'string' && p.stringMaxLen !== undefined) {
    lines.push(`string buffer of ${p.stringMaxLen} bytes: at most ${p.stringMaxLen - 1} chars`);
  }
  lines.push(...flags(p));
  const block = defaultsLine(facts, p.name);
  if (block) lines.push(`modinfo: ${block}`);
  return lines.join('\n');
}

// Markdown for a hover on a parameter.
export function paramHover(facts: ModuleFacts, p: ModuleParam): string {
  const out = [`**${p.name}** (${typeOf(p)}) of module \`${facts.name}\``, ''];
  if (p.description) out.push(p.description, '');
  out.push(`- permissions: ${p.perm.toString(8).padStart(4, '0')}`);
  out.push(`- ${defaultOf(p)}`);
  if (p.arrayMax !== undefined) {
    out.push(`- array bounds: 1 to ${p.arrayMax} elements` +
      (p.arrayCount !== undefined ? ` (${p.arrayCount} by default)` : ''));
  }
  if (p.type === 'string' && p.stringMaxLen !== undefined) {
    out.push(`- at most ${p.stringMaxLen - 1} characters`);
  }
  for (const f of flags(p)) out.push(`- ${f}`);
  const block = defaultsLine(facts, p.name);
  if (block) out.push('', '```', block, '```');
  return out.join('\n');
}

// The values worth offering after `name=`.
export function valueChoices(p: ModuleParam): { label: string; detail: string }[] {
  const bools = ['bool', 'invbool', 'bint', 'bool_enable_only'];
  if (bools.includes(p.type) && p.arrayMax === undefined) {
    const yes = p.type === 'invbool' ? 'stores false (invbool)' : 'true';
    const no = p.type === 'invbool' ? 'stores true (invbool)' : 'false';
    return [{ label: 'Y', detail: yes }, { label: 'N', detail: no },
      { label: '1', detail: yes }, { label: '0', detail: no }];
  }
  // Only text that parse_args turns back into the default: not sysfs's "(null)" for a NULL
  // charp, which would set the string "(null)".
  if (p.type !== 'custom' && p.defaultInput) {
    return [{ label: p.defaultInput, detail: 'the default' }];
  }
  return [];
}

// An array element's default as parse_args input, when one can be written (see valueChoices).
export function elementDefault(p: ModuleParam, element: number): string | undefined {
  if (p.type === 'custom') return undefined;
  if (p.arrayHasCount && element >= (p.arrayCount ?? 0)) return undefined;
  return p.elementInputs?.[element] || undefined;
}

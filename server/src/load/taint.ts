// Taint flags (kernel/panic.c taint_flags[]) and the letters /proc/modules shows for them.

export const TAINT_PROPRIETARY_MODULE = 0;
export const TAINT_FORCED_MODULE = 1;
export const TAINT_USER = 6;
export const TAINT_CRAP = 10;
export const TAINT_OOT_MODULE = 12;
export const TAINT_UNSIGNED_MODULE = 13;
export const TAINT_LIVEPATCH = 15;
export const TAINT_TEST = 18;

// Letters in the order of the kernel's taint table, for module taint strings like "(POE)".
const LETTERS: [number, string][] = [
  [TAINT_PROPRIETARY_MODULE, 'P'], [TAINT_FORCED_MODULE, 'F'], [TAINT_USER, 'U'],
  [TAINT_CRAP, 'C'], [TAINT_OOT_MODULE, 'O'], [TAINT_UNSIGNED_MODULE, 'E'],
  [TAINT_LIVEPATCH, 'K'], [TAINT_TEST, 'N'],
];

export function taintLetters(mask: number): string {
  let s = '';
  for (const [bit, letter] of LETTERS) if (mask & (1 << bit)) s += letter;
  return s;
}

export function bit(flag: number): number {
  return 1 << flag;
}

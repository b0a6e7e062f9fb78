// lib/kstrtox.c: the kstrto*() family the standard parameter setters call, and kstrtobool().
// Values are BigInt so that 64-bit overflow is detected exactly as the C code does; this is
// not a hot path. Errors are positive errno values.

import { EINVAL, ERANGE } from '../load/errno.js';

export type Kstrto<T> = { ok: true; value: T } | { ok: false; errno: number };

const U64_MAX = (1n << 64n) - 1n;

function fail<T>(errno: number): Kstrto<T> {
  return { ok: false, errno };
}

function hexDigitValue(c: string | undefined): number {
  if (c === undefined) return -1;
  const code = c.charCodeAt(0);
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

// _parse_integer_fixup_radix(): with base 0, "0x" counts as hex only when a hex digit follows;
// otherwise a leading 0 means octal, so "0x" parses "0" and leaves "x" as junk.
function fixupRadix(s: string, base: number): { base: number; start: number } {
  if (base === 0) {
    if (s[0] === '0') {
      const isX = s[1] === 'x' || s[1] === 'X';
      base = isX && hexDigitValue(s[2]) >= 0 ? 16 : 8;
    } else {
      base = 10;
    }
  }
  const start = base === 16 && s[0] === '0' && (s[1] === 'x' || s[1] === 'X') ? 2 : 0;
  return { base, start };
}

// _kstrtoull(): no sign handling; overflow wins over trailing junk because the kernel checks
// the overflow flag of _parse_integer() before looking at what follows the digits.
function parseUll(s: string, base: number): Kstrto<bigint> {
  const radix = fixupRadix(s, base);
  let i = radix.start;
  let value = 0n;
  let overflow = false;
  const big = BigInt(radix.base);

  for (; i < s.length; i++) {
    const digit = hexDigitValue(s[i]);
    if (digit < 0 || digit >= radix.base) break;
    // Past 2^64 the value is not needed any more (the result is ERANGE), and a number that
    // kept growing would make a long run of digits quadratic.
    if (overflow) continue;
    value = value * big + BigInt(digit);
    if (value > U64_MAX) overflow = true;
  }

  if (overflow) return fail(ERANGE);
  if (i === radix.start) return fail(EINVAL);

  // One trailing newline is tolerated, as sysfs writes end with one.
  if (s[i] === '\n') i++;
  if (i !== s.length) return fail(EINVAL);
  return { ok: true, value: value & U64_MAX };
}

// kstrtoull(): a single leading '+' is skipped; '-' is never accepted.
export function kstrtoull(s: string, base = 0): Kstrto<bigint> {
  return parseUll(s[0] === '+' ? s.slice(1) : s, base);
}

// kstrtoll(): '-' then digits (no second sign); the magnitude must fit the signed range.
export function kstrtoll(s: string, base = 0): Kstrto<bigint> {
  if (s[0] === '-') {
    const magnitude = parseUll(s.slice(1), base);
    if (!magnitude.ok) return magnitude;
    if (magnitude.value > 1n << 63n) return fail(ERANGE);
    return { ok: true, value: -magnitude.value };
  }

  const r = kstrtoull(s, base);
  if (!r.ok) return r;
  if (r.value >= 1n << 63n) return fail(ERANGE);
  return r;
}

function unsignedOf(bits: bigint) {
  const max = (1n << bits) - 1n;
  return (s: string, base = 0): Kstrto<bigint> => {
    const r = kstrtoull(s, base);
    if (r.ok && r.value > max) return fail(ERANGE);
    return r;
  };
}

function signedOf(bits: bigint) {
  const max = (1n << (bits - 1n)) - 1n;
  const min = -(1n << (bits - 1n));
  return (s: string, base = 0): Kstrto<bigint> => {
    const r = kstrtoll(s, base);
    if (r.ok && (r.value > max || r.value < min)) return fail(ERANGE);
    return r;
  };
}

// LP64 (x86_64, arm64): long is 64 bits, so kstrtoul/kstrtol are kstrtoull/kstrtoll.
export const kstrtoul = kstrtoull;
export const kstrtol = kstrtoll;
export const kstrtouint = unsignedOf(32n);
export const kstrtoint = signedOf(32n);
export const kstrtou16 = unsignedOf(16n);
export const kstrtos16 = signedOf(16n);
export const kstrtou8 = unsignedOf(8n);
export const kstrtos8 = signedOf(8n);

// kstrtobool() of 5.19+ (6.1, 6.12): only the first character decides, except that 'o'/'O'
// needs a second one ("on"/"of..."). So "yes", "true1" and "on!" are all accepted.
export function kstrtobool(s: string | null): Kstrto<boolean> {
  if (s === null) return fail(EINVAL);

  switch (s[0]) {
    case 'y': case 'Y': case 't': case 'T': case '1':
      return { ok: true, value: true };
    case 'n': case 'N': case 'f': case 'F': case '0':
      return { ok: true, value: false };
    case 'o': case 'O':
      if (s[1] === 'n' || s[1] === 'N') return { ok: true, value: true };
      if (s[1] === 'f' || s[1] === 'F') return { ok: true, value: false };
      return fail(EINVAL);
    default:
      return fail(EINVAL);
  }
}

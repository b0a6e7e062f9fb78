// The tokenizer of module arguments: lib/cmdline.c next_arg() as parse_args (kernel/params.c)
// drives it, on the same NUL-terminated, in-place-mutated byte buffer the kernel uses.
//
// Encoding choice: the kernel sees bytes (`mod->args` is strndup_user of what insmod passed). A
// JS string is therefore encoded as UTF-8, the way insmod on a UTF-8 system passes it, and every
// rule (isspace incl. 0xA0, length limits) works on those bytes. Pass a Uint8Array for exact
// control of raw bytes. Text read back out is decoded as UTF-8, lossily for split sequences.

const utf8 = new TextDecoder('utf-8');

export interface CString {
  text: string;
  // strlen() in bytes, which is what the kernel's length limits count.
  length: number;
}

export class ArgBuffer {
  // Always ends with a NUL, so reading one past any token is safe, as in C.
  readonly bytes: Uint8Array;

  private constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  static from(args: string | Uint8Array): ArgBuffer {
    const raw = typeof args === 'string' ? new TextEncoder().encode(args) : args;

    // strndup_user copies up to the first NUL, so anything after one never reaches parse_args.
    const nul = raw.indexOf(0);
    const used = nul < 0 ? raw : raw.subarray(0, nul);
    const bytes = new Uint8Array(used.length + 1);
    bytes.set(used);
    return new ArgBuffer(bytes);
  }

  at(index: number): number {
    return index < this.bytes.length ? this.bytes[index] : 0;
  }

  cut(index: number): void {
    this.bytes[index] = 0;
  }

  cstring(offset: number): CString {
    let end = offset;
    while (this.bytes[end] !== 0) end++;
    return { text: utf8.decode(this.bytes.subarray(offset, end)), length: end - offset };
  }
}

const QUOTE = 0x22;
const EQUALS = 0x3d;

// include/linux/ctype.h with lib/ctype.c: the _S class is \t \n \v \f \r, space, and 0xA0
// (the Latin-1 no-break space, which the kernel's table marks as space too).
export function isspace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0;
}

export function skipSpaces(buf: ArgBuffer, offset: number): number {
  while (isspace(buf.at(offset))) offset++;
  return offset;
}

export interface NextArg {
  // Offsets into the buffer of the NUL-terminated name and value; val is null without `=`.
  param: number;
  val: number | null;
  // Where the next token starts, trailing whitespace already skipped.
  next: number;
}

// lib/cmdline.c next_arg() (6.1 and 6.12 agree, incl. the `i > 0` guard of 5.19+).
export function nextArg(buf: ArgBuffer, offset: number): NextArg {
  let start = offset;
  let inQuote = false;
  let quoted = false;
  if (buf.at(start) === QUOTE) {
    start++;
    inQuote = true;
    quoted = true;
  }

  // `equals` stays 0 for "none", so an `=` at index 0 is not a separator; a later one still is.
  let equals = 0;
  let i = 0;
  for (; buf.at(start + i) !== 0; i++) {
    const c = buf.at(start + i);
    if (isspace(c) && !inQuote) break;
    if (equals === 0 && c === EQUALS) equals = i;
    if (c === QUOTE) inQuote = !inQuote;
  }

  const last = start + i - 1;
  let val: number | null = null;
  if (equals !== 0) {
    buf.cut(start + equals);
    val = start + equals + 1;

    // Only a quote right after `=` is stripped, with the token's last char if that is a quote.
    if (buf.at(val) === QUOTE) {
      val++;
      if (buf.at(last) === QUOTE) buf.cut(last);
    }
  }

  if (quoted && i > 0 && buf.at(last) === QUOTE) buf.cut(last);

  let next = start + i;
  if (buf.at(next) !== 0) {
    buf.cut(next);
    next++;
  }

  return { param: start, val, next: skipSpaces(buf, next) };
}

export interface ArgToken {
  param: string;
  val: string | null;
}

export interface SplitArgs {
  tokens: ArgToken[];
  // What follows a bare `--`, as parse_args returns it; null when there was none.
  rest: string | null;
}

// The token stream parse_args sees, without matching; for editors and tests.
export function splitArgs(args: string | Uint8Array): SplitArgs {
  const buf = ArgBuffer.from(args);
  const tokens: ArgToken[] = [];
  let offset = skipSpaces(buf, 0);

  while (buf.at(offset) !== 0) {
    const arg = nextArg(buf, offset);
    offset = arg.next;
    const param = buf.cstring(arg.param).text;
    const val = arg.val === null ? null : buf.cstring(arg.val).text;
    if (val === null && param === '--') return { tokens, rest: buf.cstring(offset).text };
    tokens.push({ param, val });
  }

  return { tokens, rest: null };
}

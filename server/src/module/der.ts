// A minimal DER reader: tag, length and content of one element, read in place. It accepts
// only what DER allows (definite lengths in their shortest form, low tag numbers) and says
// `null` for anything else, so that a caller can hand such input to a full BER decoder.

export interface DerElement {
  // Identifier octet: class (2 bits), constructed (1 bit), tag number (5 bits, < 31).
  tag: number;
  // Where the element starts, where its content starts, and where it ends.
  start: number;
  content: number;
  end: number;
}

export const DER_INTEGER = 0x02;
export const DER_OCTET_STRING = 0x04;
export const DER_OID = 0x06;
export const DER_UTF8_STRING = 0x0c;
export const DER_PRINTABLE_STRING = 0x13;
export const DER_TELETEX_STRING = 0x14;
export const DER_IA5_STRING = 0x16;
export const DER_VISIBLE_STRING = 0x1a;
export const DER_UNIVERSAL_STRING = 0x1c;
export const DER_BMP_STRING = 0x1e;
export const DER_SEQUENCE = 0x30;
export const DER_SET = 0x31;
// Context-specific [n], constructed and primitive.
export const DER_CONTEXT_0 = 0xa0;
export const DER_CONTEXT_1 = 0xa1;
export const DER_CONTEXT_0_PRIMITIVE = 0x80;

// The element at `at`, which must end by `limit`; null when it is not plain DER.
export function derElement(b: Uint8Array, at: number, limit: number): DerElement | null {
  if (at + 2 > limit) return null;
  const tag = b[at];
  if ((tag & 0x1f) === 0x1f) return null;
  let len = b[at + 1];
  let content = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    // Indefinite (n = 0) is BER only; more than four length octets is no real signature.
    if (n === 0 || n > 4 || content + n > limit) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[content + i];
    // DER's shortest form: no leading zero octet, and no long form for lengths below 128.
    if (b[content] === 0 || len < 128) return null;
    content += n;
  }
  const end = content + len;
  if (end > limit) return null;
  return { tag, start: at, content, end };
}

// The elements directly inside a constructed element, or null when one is not plain DER.
export function derChildren(b: Uint8Array, parent: DerElement): DerElement[] | null {
  const out: DerElement[] = [];
  for (let at = parent.content; at < parent.end;) {
    const e = derElement(b, at, parent.end);
    if (!e) return null;
    out.push(e);
    at = e.end;
  }
  return out;
}

// An OBJECT IDENTIFIER's content as dotted decimal, or null when it is malformed.
export function derOid(b: Uint8Array, e: DerElement): string | null {
  if (e.tag !== DER_OID || e.end === e.content) return null;
  const arcs: number[] = [];
  let value = 0;
  for (let i = e.content; i < e.end; i++) {
    // A leading 0x80 would be a padded arc, which DER forbids.
    if (value === 0 && b[i] === 0x80) return null;
    value = value * 128 + (b[i] & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) return null;
    if (b[i] & 0x80) continue;
    if (arcs.length === 0) {
      const first = value < 40 ? 0 : value < 80 ? 1 : 2;
      arcs.push(first, value - first * 40);
    } else {
      arcs.push(value);
    }
    value = 0;
  }
  if (b[e.end - 1] & 0x80) return null;
  return arcs.join('.');
}

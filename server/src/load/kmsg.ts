// One kernel log record as dmesg shows it: the printk level and the formatted text.
// Levels follow include/linux/kern_levels.h.
export const KERN_ERR = 3;
export const KERN_WARNING = 4;
export const KERN_NOTICE = 5;
export const KERN_INFO = 6;

export interface KernelLine {
  level: number;
  text: string;
}

export function line(level: number, text: string): KernelLine {
  return { level, text };
}

// printk formats a message into a record of bounded size: 6.1 reserves at most LOG_LINE_MAX
// (1024 - 32) bytes, 6.12 PRINTKRB_RECORD_MAX (1024), for the level prefix (KERN_SOH and the
// digit, 2 bytes, stripped afterwards), the text, its newline and the terminating NUL.
// Measured on both Debian kernels (conformance batch long-lines): 6.1 keeps a text of up to
// 988 bytes whole; a longer one is cut to 989 bytes and loses its newline. 6.12: 1020, 1021.
// The kernel counts bytes: a text is measured in UTF-8, as the parameters are decoded.
export function printkTextMax(series: string): number {
  const record = series === '6.1' ? 1024 - 32 : 1024;
  return record - 2 - 1;
}

export interface PrintkCut {
  line: KernelLine;
  // How many bytes were lost, the newline included; 0 when the line is whole.
  lost: number;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export function printkStore(series: string, l: KernelLine): PrintkCut {
  const max = printkTextMax(series);
  // Most lines are short: skip the encoding when even 3 bytes a character would fit.
  if (l.text.length * 3 + 1 <= max) return { line: l, lost: 0 };
  const bytes = utf8.encode(l.text);
  if (bytes.length + 1 <= max) return { line: l, lost: 0 };
  // A cut through a multi-byte character leaves U+FFFD where the kernel keeps the lone bytes.
  const text = fromUtf8.decode(bytes.subarray(0, max));
  return { line: { level: l.level, text }, lost: bytes.length + 1 - max };
}

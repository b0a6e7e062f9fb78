// Module.symvers, as modpost writes it. Three tab-separated layouts exist:
//   before 5.4:  crc  symbol  module  export
//   5.4 - 5.9:   crc  symbol  namespace  module  export
//   5.10 and on: crc  symbol  module  export  namespace   (namespace often empty)
// The export type column (EXPORT_SYMBOL, EXPORT_SYMBOL_GPL, ...) is recognisable, so each line
// is classified by where that column sits rather than by a version the file does not state.

export interface SymversExport {
  /** The CRC as an unsigned 32-bit value. */
  crc: number;
  /** 'vmlinux' or the module's path without .ko, as modpost writes it. */
  module: string;
  gplOnly: boolean;
  /** '' when the symbol has no namespace. */
  namespace: string;
}

export interface SymversError {
  line: number;
  what: string;
}

export interface Symvers {
  exports: Map<string, SymversExport>;
  /** The CRC of `module_layout` (vmlinux), which modversions checks first. */
  moduleLayoutCrc?: number;
  errors: SymversError[];
}

const CR = 13;
const VMLINUX = 'vmlinux';

/** Parses Module.symvers text. Bad lines are skipped and reported; never throws. */
export function parseSymvers(text: string): Symvers {
  const exports = new Map<string, SymversExport>();
  const errors: SymversError[] = [];
  // Tab positions of the current line; five fields need four, a sixth would be an error.
  const tabs = [0, 0, 0, 0, 0];
  let lineNo = 0;
  let start = 0;

  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNo++;
    const lineEnd = end > start && text.charCodeAt(end - 1) === CR ? end - 1 : end;

    if (lineEnd > start) {
      let count = 0;
      let at = text.indexOf('\t', start);
      while (at >= 0 && at < lineEnd && count < tabs.length) {
        tabs[count++] = at;
        at = text.indexOf('\t', at + 1);
      }
      const problem = addLine(text, start, lineEnd, tabs, count, exports);
      if (problem !== undefined) errors.push({ line: lineNo, what: problem });
    }
    start = end + 1;
  }

  const layout = exports.get('module_layout');
  return { exports, moduleLayoutCrc: layout?.crc, errors };
}

// Besides EXPORT_SYMBOL[_GPL], kernels before 5.13 also wrote EXPORT_SYMBOL_GPL_FUTURE and
// EXPORT_UNUSED_SYMBOL[_GPL].
function isExportType(text: string, from: number): boolean {
  return text.startsWith('EXPORT_', from);
}

function addLine(
  text: string,
  start: number,
  end: number,
  tabs: number[],
  count: number,
  exports: Map<string, SymversExport>,
): string | undefined {
  if (count < 3) return `expected at least 4 tab-separated fields, found ${count + 1}`;
  if (count > 4) return `expected at most 5 tab-separated fields, found more`;

  let moduleField: number;
  let exportEnd: number;
  let namespace = '';
  if (isExportType(text, tabs[2] + 1)) {
    // Pre-5.4 (4 fields) and 5.10+ (5 fields, the last one the namespace).
    moduleField = 2;
    exportEnd = count === 4 ? tabs[3] : end;
    if (count === 4 && tabs[3] + 1 < end) namespace = text.slice(tabs[3] + 1, end);
  } else if (count === 4 && isExportType(text, tabs[3] + 1)) {
    moduleField = 3;
    exportEnd = end;
    namespace = text.slice(tabs[1] + 1, tabs[2]);
  } else {
    return 'no EXPORT_* column in field 4 or 5';
  }

  const crc = parseCrc(text, start, tabs[0]);
  if (crc === undefined) return `bad CRC '${text.slice(start, tabs[0])}'`;
  if (tabs[1] === tabs[0] + 1) return 'empty symbol name';

  const moduleStart = tabs[moduleField - 1] + 1;
  const moduleEnd = tabs[moduleField];
  const isVmlinux = moduleEnd - moduleStart === 7 && text.startsWith(VMLINUX, moduleStart);
  // modpost writes each symbol once; if a file repeats one, the last line wins, as it would in
  // modpost reading the file back.
  exports.set(text.slice(tabs[0] + 1, tabs[1]), {
    crc,
    module: isVmlinux ? VMLINUX : text.slice(moduleStart, moduleEnd),
    gplOnly: text.startsWith('_GPL', exportEnd - 4),
    namespace,
  });
  return undefined;
}

/** `0x` followed by 1-8 hex digits, read exactly as an unsigned 32-bit value. */
function parseCrc(text: string, from: number, to: number): number | undefined {
  const length = to - from;
  if (length < 3 || length > 10) return undefined;
  if (text.charCodeAt(from) !== 48 || (text.charCodeAt(from + 1) | 0x20) !== 120) return undefined;
  let value = 0;
  for (let i = from + 2; i < to; i++) {
    const d = hexDigit(text.charCodeAt(i));
    if (d < 0) return undefined;
    value = value * 16 + d;
  }
  return value;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const lower = c | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

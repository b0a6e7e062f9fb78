// Typed decoding errors. They carry where (byte offset, section index and name) and what, so a
// diagnostic can point at the exact spot; the kernel's own messages are produced elsewhere
// (load/elf-validity.ts), because the kernel checks less, and differently, than a decoder must.

export type ElfErrorCode =
  | 'truncated'      // a read past the end of the file or of its section
  | 'bad-magic'
  | 'bad-class'
  | 'bad-encoding'
  | 'bad-header'     // a header field that makes the rest undecodable (e.g. e_shentsize)
  | 'bad-section'    // a section header that points outside the file, or a bad sh_link
  | 'bad-symbol'     // a symbol index or name out of range
  | 'bad-relocation'
  | 'bad-string';    // a string that runs off the end of its table

export class ElfFormatError extends Error {
  constructor(
    readonly code: ElfErrorCode,
    readonly what: string,
    readonly offset?: number,
    readonly section?: { index: number; name?: string },
  ) {
    super(describe(what, offset, section));
    this.name = 'ElfFormatError';
  }
}

function describe(what: string, offset?: number, section?: { index: number; name?: string }) {
  const where: string[] = [];
  if (section) {
    const named = section.name ? ` (${section.name})` : '';
    where.push(`section ${section.index}${named}`);
  }
  if (offset !== undefined) where.push(`offset 0x${offset.toString(16)}`);
  return where.length ? `${where.join(', ')}: ${what}` : what;
}

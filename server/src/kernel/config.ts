// A kernel .config (scripts/kconfig output) and include/config/kernel.release.

/** A set option: 'y', 'm', a string (quotes removed, escapes undone) or a number as written. */
export type ConfigValue = string;

export interface KernelConfig {
  /** Keys without the CONFIG_ prefix. Options written as "is not set" map to 'n'. */
  options: Map<string, ConfigValue>;
  errors: { line: number; what: string }[];
}

const PREFIX = 'CONFIG_';
const NOT_SET_SUFFIX = ' is not set';

/** Parses .config text; never throws. Later lines override earlier ones, as in kconfig. */
export function parseKernelConfig(text: string): KernelConfig {
  const options = new Map<string, ConfigValue>();
  const errors: { line: number; what: string }[] = [];
  const lines = text.split('\n');

  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
    if (raw.trim() === '') continue;

    if (raw.startsWith('#')) {
      const name = notSetName(raw);
      if (name !== undefined) options.set(name, 'n');
      continue;
    }

    const eq = raw.indexOf('=');
    if (!raw.startsWith(PREFIX) || eq < 0) {
      errors.push({ line: i + 1, what: `not a CONFIG_ assignment: '${raw}'` });
      continue;
    }
    const name = raw.slice(PREFIX.length, eq);
    const value = parseValue(raw.slice(eq + 1));
    if (name === '' || value === undefined) {
      errors.push({ line: i + 1, what: `bad value for '${raw.slice(0, eq)}'` });
      continue;
    }
    options.set(name, value);
  }
  return { options, errors };
}

function notSetName(comment: string): string | undefined {
  const body = comment.slice(1).trimStart();
  if (!body.startsWith(PREFIX) || !body.endsWith(NOT_SET_SUFFIX)) return undefined;
  const name = body.slice(PREFIX.length, body.length - NOT_SET_SUFFIX.length);
  return /^[A-Za-z0-9_]+$/.test(name) ? name : undefined;
}

function parseValue(v: string): ConfigValue | undefined {
  if (!v.startsWith('"')) return v === '' ? undefined : v;

  // kconfig writes strings with backslash escapes for '"' and '\\'.
  let out = '';
  for (let i = 1; i < v.length; i++) {
    const c = v[i];
    if (c === '\\' && i + 1 < v.length) {
      out += v[++i];
    } else if (c === '"') {
      return i === v.length - 1 ? out : undefined;
    } else {
      out += c;
    }
  }
  return undefined;
}

/** True for `y` and `m`; the value to use for "is this feature in the kernel at all". */
export function isEnabled(config: KernelConfig, name: string): boolean {
  const v = config.options.get(name);
  return v === 'y' || v === 'm';
}

/**
 * The release string from include/config/kernel.release (one line, e.g. '6.1.0-57-amd64').
 * Undefined for empty text or text with more than one non-empty line.
 */
export function parseKernelRelease(text: string): string | undefined {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  if (lines.length !== 1) return undefined;
  return /\s/.test(lines[0]) ? undefined : lines[0];
}

// The shape of a custom request's params, checked before the handler uses them: a client that
// sends a number where a path belongs gets an InvalidParams error naming the field, not a
// TypeError from deep inside, and never a kernel verdict made up from one.

import { ErrorCodes, ResponseError } from 'vscode-languageserver/node';

// What one field may hold: a JSON type, or one of a few strings.
export type FieldRule =
  | { type: 'string' | 'boolean'; required?: boolean }
  | { type: 'offset'; required?: boolean }
  | { oneOf: readonly string[]; required?: boolean };

export type ParamsShape = Record<string, FieldRule>;

// Throws a ResponseError (vscode-languageserver answers it as the request's error) when the
// params do not fit; returns them typed when they do. `optional` allows absent params.
export function checkParams<T>(method: string, params: unknown, shape: ParamsShape,
  optional = false): T {
  if (params === undefined || params === null) {
    if (optional) return {} as T;
    throw invalid(`${method}: params missing (an object is expected)`);
  }
  if (typeof params !== 'object' || Array.isArray(params)) {
    throw invalid(`${method}: params must be an object, not ${describe(params)}`);
  }
  const p = params as Record<string, unknown>;
  for (const [field, rule] of Object.entries(shape)) {
    const value = p[field];
    if (value === undefined) {
      if (rule.required) throw invalid(`${method}: field '${field}' is missing`);
      continue;
    }
    const problem = misfit(rule, value);
    if (problem) throw invalid(`${method}: field '${field}' ${problem}`);
  }
  return p as T;
}

function misfit(rule: FieldRule, value: unknown): string | undefined {
  if ('oneOf' in rule) {
    if (typeof value === 'string' && rule.oneOf.includes(value)) return undefined;
    return `must be one of ${rule.oneOf.map((v) => `"${v}"`).join(', ')}, not ` +
      describe(value);
  }
  if (rule.type === 'offset') {
    return Number.isSafeInteger(value) && (value as number) >= 0 ? undefined
      : `must be a non-negative integer, not ${describe(value)}`;
  }
  return typeof value === rule.type ? undefined
    : `must be a ${rule.type}, not ${describe(value)}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

function invalid(message: string): ResponseError<void> {
  return new ResponseError(ErrorCodes.InvalidParams, message);
}

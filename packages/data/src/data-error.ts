// One-line errors that say where bad data is: `<file>:<line>: <problem>` (line is 1-based) or `<source>: <problem>`.
import type { ZodIssue } from 'zod';

/** Bad input data. `message` is one line naming the file (and row/field) and the problem. */
export class DataError extends Error {
  override readonly name = 'DataError';
  constructor(
    readonly source: string,
    readonly row: number | null,
    readonly problem: string,
  ) {
    super(`${source}${row === null ? '' : `:${row}`}: ${oneLine(problem)}`);
  }
}

/** Collapse a message to a single line (JSON.parse and zod messages may span lines). */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** `perturbed_answer[2]` from zod's path `['perturbed_answer', 2]`. */
function fieldName(path: readonly (string | number)[]): string {
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? part : `.${part}`)).join('');
}

/** The first zod issue as `field "answer" must be a string` (or zod's own words for the rarer cases). */
export function describeIssue(issue: ZodIssue): string {
  const field = issue.path.length > 0 ? `field "${fieldName(issue.path)}"` : 'row';
  if (issue.code === 'invalid_type') {
    if (issue.received === 'undefined') return `${field} is missing`;
    const expected = issue.expected === 'array' ? 'an array' : issue.expected === 'object' ? 'an object' : `a ${issue.expected}`;
    return `${field} must be ${expected}, got ${issue.received}`;
  }
  return `${field}: ${issue.message}`;
}

// JSON Lines reading with per-row schema validation: one object per line, blank lines skipped, errors name the line.
import { readFile } from 'node:fs/promises';
import type { ZodType, ZodTypeDef } from 'zod';
import { DataError, describeIssue, oneLine } from './data-error.js';

/** Read a whole text file; a missing or unreadable file is a one-line DataError. */
export async function readTextFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new DataError(file, null, `cannot read file (${code})`);
  }
}

/**
 * Parse JSON Lines text, validating each row with `schema`. `source` names the file in errors:
 * `forget10.json:17: field "answer" must be a string`. Line numbers are 1-based and count blank lines.
 */
export function parseJsonLines<Row>(text: string, source: string, schema: ZodType<Row, ZodTypeDef, unknown>): Row[] {
  const rows: Row[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    const lineNumber = i + 1;
    if (rows.length === 0 && line.startsWith('[')) {
      throw new DataError(source, lineNumber, 'expected JSON Lines (one object per line), found a JSON array');
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new DataError(source, lineNumber, `invalid JSON (${oneLine((error as Error).message)})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new DataError(source, lineNumber, `expected a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}`);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new DataError(source, lineNumber, describeIssue(parsed.error.issues[0]));
    rows.push(parsed.data);
  }
  if (rows.length === 0) throw new DataError(source, null, 'no rows (the file is empty)');
  return rows;
}

/** Read and validate a JSON Lines file. */
export async function readJsonLines<Row>(file: string, schema: ZodType<Row, ZodTypeDef, unknown>): Promise<Row[]> {
  return parseJsonLines(await readTextFile(file), file, schema);
}

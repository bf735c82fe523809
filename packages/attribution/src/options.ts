// Strict, typed options (zod): a typo or a bad value fails at construction with one line naming the builder.
import type { z } from 'zod';

export function parseOptions<S extends z.ZodTypeAny>(name: string, schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) =>
    issue.code === 'unrecognized_keys'
      ? `unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`
      : `${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`,
  );
  throw new Error(`${name}: invalid options: ${problems.join('; ')}`);
}

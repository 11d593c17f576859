import type { z } from 'zod';
import { ApiError } from '../errors.ts';

/** Validates one part of a request; issue paths are prefixed with the part (`query.limit`, `params.id`). */
export function parsePart<S extends z.ZodTypeAny>(schema: S, value: unknown, part: 'params' | 'query' | 'headers'): z.output<S> {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) throw ApiError.fromZod(parsed.error, part === 'params' ? 'path' : part, part);
  return parsed.data;
}

import type { ZodError } from 'zod';
import { ValidationError } from './errors.ts';

/** Parses `value` with `schema`, or throws ValidationError naming each bad field under `what`. */
export function parse<S extends { safeParse(v: unknown): { success: true; data: unknown } | { success: false; error: ZodError } }>(
  schema: S,
  value: unknown,
  what: string,
): S extends { safeParse(v: unknown): { success: true; data: infer D } | { success: false } } ? D : never {
  const result = schema.safeParse(value);
  if (!result.success) throw ValidationError.fromZod(result.error, what);
  return result.data as never;
}

/** `value` as JSON, or a ValidationError naming `path` when it is not serialisable or over `maxBytes`. */
export function jsonOf(value: unknown, path: string, maxBytes: number): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    throw new ValidationError([{ path, message: `is not serialisable as JSON (${(err as Error).message})` }]);
  }
  if (json === undefined) throw new ValidationError([{ path, message: 'is not serialisable as JSON' }]);
  const bytes = Buffer.byteLength(json);
  if (bytes > maxBytes) throw new ValidationError([{ path, message: `is ${bytes} bytes, over the limit of ${maxBytes}` }]);
  return json;
}

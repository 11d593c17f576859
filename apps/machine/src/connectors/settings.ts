import { z } from 'zod';
import { ConfigError } from '../agent/errors.ts';

/** Unset and empty are the same: absent (PM2 and shells pass empty strings for unset values). */
export const optionalSetting = <T extends z.ZodTypeAny>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

/** A duration setting in milliseconds, with its default. */
export const millisSetting = (fallback: number, example: string) =>
  optionalSetting(z.string().regex(/^\d+$/, `must be a whole number of milliseconds, e.g. ${example}`).transform(Number)).transform((v) => v ?? fallback);

/** An http(s) base URL setting, without its trailing slash. */
export const urlSetting = (example: string) =>
  z
    .string()
    .refine((raw) => {
      try {
        return ['http:', 'https:'].includes(new URL(raw).protocol);
      } catch {
        return false;
      }
    }, `must be an http(s) URL, e.g. ${example}`)
    .transform((raw) => raw.replace(/\/+$/, ''));

/** Parses a connector's settings once, at start; a ConfigError names each bad variable. */
export function readSettings<T extends z.ZodTypeAny>(schema: T, env: Readonly<Record<string, string | undefined>>): z.output<T> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => ({ variable: String(i.path[0] ?? '(environment)'), message: i.message })));
  }
  return parsed.data as z.output<T>;
}

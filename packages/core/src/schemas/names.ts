import { z } from 'zod';

/** A connector name: lower-case, starts with a letter, as used in WORKER_CONNECTORS. */
export const ServiceName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,63}$/, 'must be 1-64 lower-case letters, digits or "-", starting with a letter');
export type ServiceName = z.infer<typeof ServiceName>;

/** Identifiers for tenants, machines, workers, pools, models and tags. */
export const Identifier = z
  .string()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .regex(/^[A-Za-z0-9._:/@+-]+$/, 'may contain only letters, digits and . _ : / @ + -');
export type Identifier = z.infer<typeof Identifier>;

export const JobId = z.string().regex(/^\d{13}-\d{10}$/, 'is not a job id (expected 13 digits, "-", 10 digits)');
export type JobId = z.infer<typeof JobId>;

import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { compileSchema } from '../src/compiled-schema.ts';
import { Job, JobSubmission, seededRandom } from '../src/index.ts';

const STRINGS = [
  '',
  'a',
  'A',
  'comfyui',
  'gpu-a',
  'sdxl',
  'sd/xl@v1+2:3.4_5-6',
  '1abc',
  'has space',
  'é',
  'x'.repeat(64),
  `a${'b'.repeat(63)}`,
  `a${'b'.repeat(64)}`,
  'x'.repeat(200),
  'x'.repeat(201),
  '1796299548488-0000000001',
  '1796299548488-000000001',
  'https://example.com/hook',
  'http://h',
  'HTTPS://EXAMPLE.COM',
  'ftp://example.com',
  'https://',
  'not a url',
  'TIMEOUT',
  'E',
  'lower_code',
  'x'.repeat(15),
  'x'.repeat(16),
  'x'.repeat(256),
  'x'.repeat(257),
  'x'.repeat(1001),
  'fixed',
  'exponential',
  'shared',
  'dedicated',
  'runpod',
  'active',
  'completed',
];
const NUMBERS = [0, -0, 1, -1, 1.5, 2, 3, 5, 64, 100, 101, 1000, 1001, -1000, -1001, 8192, 10_000_000, 10_000_001, 86_400_000, 86_400_001];
const NUMBERS_TOO = [7 * 86_400_000, 7 * 86_400_000 + 1, 30 * 86_400_000, 30 * 86_400_000 + 1, 2 ** 53, 1796299548488, NaN, Infinity, -Infinity];
const WILD: unknown[] = [
  undefined,
  null,
  true,
  false,
  0,
  '1',
  '',
  [],
  [1],
  {},
  { a: 1 },
  new Date(0),
  new Map(),
  Object.create(null),
  { then: () => undefined, catch: () => undefined },
  Object.assign(Object.create(null), { models: ['sdxl'] }),
  Object.assign(new Array<string>(2), { 1: 'a' }),
];

type Rng = () => number;
const pick = <T>(rng: Rng, from: readonly T[]): T => from[Math.floor(rng() * from.length)] as T;

/** Values of `pool` the schema accepts, so generated inputs are valid often enough to test the accepting path. */
const validCache = new Map<z.ZodTypeAny, unknown[]>();
function validFrom(schema: z.ZodTypeAny, pool: readonly unknown[]): unknown[] {
  let valid = validCache.get(schema);
  if (!valid) validCache.set(schema, (valid = pool.filter((v) => schema.safeParse(v).success)));
  return valid;
}

/**
 * A value for `schema`: at each node, with odds `noise`, anything at all or a value of the right type
 * the schema may refuse; else a valid one (boundary values included).
 */
function generate(schema: z.ZodTypeAny, rng: Rng, noise: number, depth = 0): unknown {
  if (rng() < noise) return pick(rng, WILD);
  if (schema instanceof z.ZodString || schema instanceof z.ZodNumber) {
    const pool: readonly unknown[] = schema instanceof z.ZodString ? STRINGS : [...NUMBERS, ...NUMBERS_TOO];
    const valid = validFrom(schema, pool);
    return valid.length > 0 && rng() >= noise * 3 ? pick(rng, valid) : pick(rng, pool);
  }
  if (schema instanceof z.ZodBoolean) return rng() < 0.5;
  if (schema instanceof z.ZodEnum) return rng() >= noise ? pick(rng, schema.options as string[]) : 'bogus';
  if (schema instanceof z.ZodOptional) return rng() < 0.4 ? undefined : generate(schema._def.innerType, rng, noise, depth);
  if (schema instanceof z.ZodDefault) return rng() < 0.4 ? undefined : generate(schema._def.innerType, rng, noise, depth);
  if (schema instanceof z.ZodEffects) return generate(schema._def.schema, rng, noise, depth);
  if (schema instanceof z.ZodArray) {
    const length = rng() < noise ? pick(rng, [8, 9, 64, 65]) : Math.floor(rng() * 4);
    return Array.from({ length }, () => generate(schema._def.type, rng, noise, depth + 1));
  }
  if (schema instanceof z.ZodObject) {
    const out: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(schema.shape as Record<string, z.ZodTypeAny>)) {
      const value = generate(field, rng, noise, depth + 1);
      // Absent, or present with the value undefined: zod keeps the key of the latter.
      if (value !== undefined || rng() < 0.2) out[key] = value;
    }
    if (rng() < noise) out.unknownField = 1;
    return rng() < noise ? Object.assign(Object.create(null), out) : out;
  }
  return depth > 2 ? pick(rng, WILD) : { nested: [pick(rng, WILD), { deep: pick(rng, STRINGS) }] };
}

/** A value's layout: key order and keys holding undefined count, as they do in what zod returns. */
function layout(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(layout);
  if (value !== null && typeof value === 'object' && !(value instanceof Date) && !(value instanceof Map)) {
    return Object.entries(value).map(([k, v]) => [k, layout(v)]);
  }
  return value;
}

function holdsToZod(schema: z.AnyZodObject, seed: number, cases: number): { valid: number; invalid: number } {
  const quick = compileSchema(schema);
  const rng = seededRandom(seed);
  let valid = 0;
  for (let i = 0; i < cases; i++) {
    const input = generate(schema, rng, pick(rng, [0, 0.002, 0.01, 0.03, 0.1]));
    const parsed = schema.safeParse(input);
    const fast = quick(input);
    if (parsed.success) {
      valid++;
      // A class instance or null-prototype object is left to zod; every plain-data input it accepts is accepted here too.
      if (fast === undefined && Object.getPrototypeOf(input) !== null) expect.fail(`compiled check refused what zod accepts: ${JSON.stringify(input)}`);
      if (fast !== undefined) expect(layout(fast)).toStrictEqual(layout(parsed.data));
    } else if (fast !== undefined) {
      expect.fail(`compiled check accepted what zod refuses (${parsed.error.message}): ${JSON.stringify(input)}`);
    }
  }
  return { valid, invalid: cases - valid };
}

describe('compiled schemas', () => {
  it('accept exactly the submissions zod accepts, and return what zod returns, fields in the same order', () => {
    const { valid, invalid } = holdsToZod(JobSubmission, 1, 10_000);
    expect(valid).toBeGreaterThan(1_500);
    expect(invalid).toBeGreaterThan(1_500);
  });

  it('accept exactly the stored jobs zod accepts, and return what zod returns', () => {
    const { valid, invalid } = holdsToZod(Job, 2, 10_000);
    expect(valid).toBeGreaterThan(1_500);
    expect(invalid).toBeGreaterThan(1_500);
  });

  it('take the common submission shapes (the fast path is used), the payload passed through as given', () => {
    const quick = compileSchema(JobSubmission);
    const payload = { prompt: 'a cat', steps: 30 };
    const common = [
      { service: 'comfyui', payload },
      { service: 'comfyui', payload, requirements: { gpuMemoryMb: 8192, models: ['sdxl'], pool: 'gpu-a' } },
      { service: 'comfyui', payload, tenant: 'acme', priority: 5, prefer: { models: ['flux'] }, idempotencyKey: 'k1' },
      { service: 'comfyui', payload, workflow: { id: 'wf', step: 1, total: 2 }, webhook: { url: 'https://example.com/h', secret: 'x'.repeat(16) } },
    ];
    for (const input of common) {
      expect(quick(input)?.payload).toBe(payload);
      expect(layout(quick(input))).toStrictEqual(layout(JobSubmission.parse(input)));
    }
  });

  it('leave to zod what they do not compile (a transform), so zod reports it', () => {
    const schema = z.object({ n: z.string().transform((s) => s.length) });
    expect(compileSchema(schema)({ n: 'abc' })).toBeUndefined();
  });
});

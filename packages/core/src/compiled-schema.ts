import { z } from 'zod';

/** What a compiled check returns for a value it does not accept. */
const REJECT: unique symbol = Symbol('reject');
type Check = (value: unknown) => unknown;

const rejectAll: Check = () => REJECT;

/** A string's checks, as zod runs them (`new URL` is zod v3's whole `url` check). */
function stringCheck(schema: z.ZodString): Check {
  const def = schema._def;
  if (def.coerce) return rejectAll;
  let min = 0;
  let max = Infinity;
  let url = false;
  const patterns: RegExp[] = [];
  for (const check of def.checks) {
    if (check.kind === 'min') min = Math.max(min, check.value);
    else if (check.kind === 'max') max = Math.min(max, check.value);
    else if (check.kind === 'regex') patterns.push(check.regex);
    else if (check.kind === 'url') url = true;
    else return rejectAll;
  }
  return (v) => {
    if (typeof v !== 'string' || v.length < min || v.length > max) return REJECT;
    for (const pattern of patterns) {
      pattern.lastIndex = 0;
      if (!pattern.test(v)) return REJECT;
    }
    if (url && !URL.canParse(v)) return REJECT;
    return v;
  };
}

function numberCheck(schema: z.ZodNumber): Check {
  const def = schema._def;
  if (def.coerce) return rejectAll;
  let int = false;
  let finite = false;
  const bounds: { readonly kind: 'min' | 'max'; readonly value: number; readonly inclusive: boolean }[] = [];
  for (const check of def.checks) {
    if (check.kind === 'int') int = true;
    else if (check.kind === 'finite') finite = true;
    else if (check.kind === 'min' || check.kind === 'max') bounds.push(check);
    else return rejectAll;
  }
  return (v) => {
    if (typeof v !== 'number' || Number.isNaN(v)) return REJECT;
    if ((int && !Number.isInteger(v)) || (finite && !Number.isFinite(v))) return REJECT;
    for (const b of bounds) {
      const out = b.kind === 'min' ? (b.inclusive ? v < b.value : v <= b.value) : b.inclusive ? v > b.value : v >= b.value;
      if (out) return REJECT;
    }
    return v;
  };
}

function arrayCheck(schema: z.ZodArray<z.ZodTypeAny>): Check {
  const { exactLength, minLength, maxLength, type } = schema._def;
  const element = compile(type);
  const min = Math.max(exactLength?.value ?? 0, minLength?.value ?? 0);
  const max = Math.min(exactLength?.value ?? Infinity, maxLength?.value ?? Infinity);
  return (v) => {
    if (!Array.isArray(v) || v.length < min || v.length > max) return REJECT;
    const out: unknown[] = new Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const item = element(v[i]);
      if (item === REJECT) return REJECT;
      out[i] = item;
    }
    return out;
  };
}

/**
 * An object as zod's `object` builds it: fields in shape order, a field set when its value is
 * defined or the input has the key. Only plain objects are taken (zod also takes class instances).
 */
function objectCheck(schema: z.AnyZodObject): Check {
  const def = schema._def;
  if (!(def.catchall instanceof z.ZodNever) || def.unknownKeys === 'passthrough') return rejectAll;
  const strict = def.unknownKeys === 'strict';
  const shape = schema.shape as Record<string, z.ZodTypeAny>;
  const keys = Object.keys(shape);
  if (keys.includes('__proto__')) return rejectAll;
  const known = new Set(keys);
  const fields = keys.map((key) => ({ key, check: compile(shape[key] as z.ZodTypeAny) }));
  return (v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return REJECT;
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return REJECT;
    const input = v as Record<string, unknown>;
    // zod reads an object with `then` and `catch` functions as a promise.
    if (typeof input.then === 'function' && typeof input.catch === 'function') return REJECT;
    if (strict) for (const key in input) if (!known.has(key)) return REJECT;
    const out: Record<string, unknown> = {};
    for (const { key, check } of fields) {
      const value = check(input[key]);
      if (value === REJECT) return REJECT;
      if (value !== undefined || key in input) out[key] = value;
    }
    return out;
  };
}

/** A `refine`/`superRefine`: valid when the refinement adds no issue (an async one is zod's to report). */
function refinementCheck(schema: z.ZodEffects<z.ZodTypeAny>): Check {
  const effect = schema._def.effect;
  if (effect.type !== 'refinement') return rejectAll;
  const inner = compile(schema._def.schema);
  const refinement = effect.refinement;
  // One context for every call (checks run one at a time), not a closure per call.
  const ctx = {
    issues: 0,
    path: [],
    addIssue() {
      this.issues++;
    },
  };
  return (v) => {
    const value = inner(v);
    if (value === REJECT) return REJECT;
    ctx.issues = 0;
    const result: unknown = refinement(value, ctx);
    return ctx.issues > 0 || result instanceof Promise ? REJECT : value;
  };
}

function compile(schema: z.ZodTypeAny): Check {
  if (schema instanceof z.ZodString) return stringCheck(schema);
  if (schema instanceof z.ZodNumber) return numberCheck(schema);
  if (schema instanceof z.ZodBoolean) return schema._def.coerce ? rejectAll : (v) => (typeof v === 'boolean' ? v : REJECT);
  if (schema instanceof z.ZodEnum) {
    const values = new Set<unknown>(schema._def.values);
    return (v) => (typeof v === 'string' && values.has(v) ? v : REJECT);
  }
  if (schema instanceof z.ZodUnknown || schema instanceof z.ZodAny) return (v) => v;
  if (schema instanceof z.ZodOptional) {
    const inner = compile(schema._def.innerType);
    return (v) => (v === undefined ? undefined : inner(v));
  }
  if (schema instanceof z.ZodDefault) {
    const inner = compile(schema._def.innerType);
    const defaultValue = schema._def.defaultValue;
    return (v) => inner(v === undefined ? defaultValue() : v);
  }
  if (schema instanceof z.ZodArray) return arrayCheck(schema);
  if (schema instanceof z.ZodObject) return objectCheck(schema);
  if (schema instanceof z.ZodEffects) return refinementCheck(schema);
  return rejectAll;
}

/**
 * A zod object schema compiled to plain checks, for hot paths: it returns what `schema.parse`
 * returns (same fields, same order) for the plain data it accepts, and undefined for anything
 * else, which the caller then parses with zod itself, so errors are zod's, word for word. Schema
 * kinds it does not know (transforms, unions, ...) make it accept nothing below them.
 * compiled-schema.test.ts holds it to zod over valid and invalid inputs.
 */
export function compileSchema<S extends z.AnyZodObject | z.ZodEffects<z.AnyZodObject>>(schema: S): (value: unknown) => z.output<S> | undefined {
  const check = compile(schema);
  return (value) => {
    const out = check(value);
    return out === REJECT ? undefined : (out as z.output<S>);
  };
}

/**
 * `schema.safeParse` through its compiled check first: the same result for every input, at the
 * compiled check's cost for the plain data it accepts; zod parses (and reports on) the rest.
 */
export function withCompiledCheck<S extends z.AnyZodObject | z.ZodEffects<z.AnyZodObject>>(
  schema: S,
): { safeParse(value: unknown): z.SafeParseReturnType<z.input<S>, z.output<S>> } {
  const check = compileSchema(schema);
  return {
    safeParse: (value) => {
      const data = check(value);
      return data === undefined ? schema.safeParse(value) : { success: true, data };
    },
  };
}

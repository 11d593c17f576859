import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { CHECKOUT_ROOT } from './paths.ts';

/** One `NAME=value` line of .env.example; `commented` for `# NAME=` (no fixed default: unset, required, or machine-dependent). */
export interface EnvExampleEntry {
  readonly name: string;
  readonly value: string;
  readonly commented: boolean;
  /** The `# === <source file> ===` heading it is listed under. */
  readonly section: string;
}

const HEADING = /^# === (.+) ===$/;
const ENTRY = /^(# )?([A-Z][A-Z0-9_]*)=(.*)$/;

export function parseEnvExample(text: string): EnvExampleEntry[] {
  let section = '';
  const entries: EnvExampleEntry[] = [];
  for (const line of text.split('\n')) {
    const heading = HEADING.exec(line);
    if (heading) section = heading[1] ?? '';
    const entry = ENTRY.exec(line);
    if (entry) entries.push({ name: entry[2] ?? '', value: entry[3] ?? '', commented: entry[1] !== undefined, section });
  }
  return entries;
}

export async function readEnvExample(root: string = CHECKOUT_ROOT): Promise<EnvExampleEntry[]> {
  return parseEnvExample(await readFile(join(root, '.env.example'), 'utf8'));
}

/** The object schema under refinements (`z.object(...).superRefine(...)`). */
function shapeOf(schema: z.ZodTypeAny): Record<string, z.ZodTypeAny> {
  if (schema instanceof z.ZodObject) return schema.shape as Record<string, z.ZodTypeAny>;
  if (schema instanceof z.ZodEffects) return shapeOf(schema.innerType());
  throw new Error('an env schema must be a z.object, possibly refined');
}

/**
 * What keeps .env.example true to the config schemas: every variable of `schemas` is listed once;
 * `section` lists nothing they do not have; a variable with a default is listed uncommented with a
 * value that parses to that default; one without is commented out, with an example that parses.
 */
export function envExampleProblems(
  entries: readonly EnvExampleEntry[],
  section: string,
  schemas: readonly z.ZodTypeAny[],
  /** Variables whose default depends on the host (MACHINE_ID: the host name), listed commented out. */
  hostDependent: readonly string[] = [],
): string[] {
  const problems: string[] = [];
  // A variable several schemas read (REDIS_URL, ARTIFACT_DIR) must be valid for each; its default is the first one given.
  const fields = new Map<string, z.ZodTypeAny[]>();
  for (const schema of schemas) for (const [name, field] of Object.entries(shapeOf(schema))) fields.set(name, [...(fields.get(name) ?? []), field]);
  const byName = new Map<string, EnvExampleEntry>();
  for (const entry of entries) {
    if (byName.has(entry.name)) problems.push(`${entry.name} is listed twice`);
    byName.set(entry.name, entry);
    if (entry.section === section && !fields.has(entry.name)) problems.push(`${entry.name} is listed under ${section}, whose schemas have no such variable`);
  }
  if (!entries.some((e) => e.section === section)) problems.push(`no "# === ${section} ===" section`);
  for (const [name, readers] of fields) {
    const entry = byName.get(name);
    if (!entry) {
      problems.push(`${name} is missing`);
      continue;
    }
    const defaults = readers.map((f) => f.safeParse(undefined)).filter((r) => r.success && r.data !== undefined);
    const fallback = hostDependent.includes(name) ? undefined : defaults[0];
    if (fallback && entry.commented) problems.push(`${name} has a default (${JSON.stringify(fallback.data)}); list it uncommented with that value`);
    if (!fallback && !entry.commented) problems.push(`${name} has no default; list it commented out: # ${name}=`);
    if (entry.commented && entry.value === '') continue;
    for (const field of readers) {
      const listed = field.safeParse(entry.value);
      if (!listed.success) problems.push(`${name}=${entry.value} is not a valid value: ${listed.error.issues[0]?.message ?? ''}`);
      else if (fallback && field.safeParse(undefined).data !== undefined && !isDeepStrictEqual(listed.data, field.safeParse(undefined).data)) {
        problems.push(`${name}=${entry.value} is not its default (${JSON.stringify(field.safeParse(undefined).data)})`);
      }
    }
  }
  return problems;
}

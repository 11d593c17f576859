import { readFile } from 'node:fs/promises';
import { CONTRACTS } from '@conveyor/connectors';
import { payloadJsonSchema } from '@conveyor/connectors/json-schema';
import { expect, it } from 'vitest';

/** The README section of one connector, from its heading to the next. */
function sectionOf(readme: string, name: string): string {
  const start = readme.indexOf(`### \`${name}\``);
  expect(start, `apps/machine/README.md has no section for ${name}`).toBeGreaterThan(-1);
  const end = readme.indexOf('\n### ', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

it('documents every connector: each payload field, and an example its contract accepts', async () => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  for (const [name, contract] of Object.entries(CONTRACTS)) {
    const section = sectionOf(readme, name);
    const schema = payloadJsonSchema(contract) as { properties?: Record<string, unknown>; anyOf?: { properties: Record<string, unknown> }[] };
    const fields = new Set([schema, ...(schema.anyOf ?? [])].flatMap((s) => Object.keys(s.properties ?? {})));
    for (const field of fields) expect(section, `${name}.${field} is not documented`).toMatch(new RegExp(`\`${field}[\`.]`));
    const example = /```json\n([\s\S]*?)\n```/.exec(section)?.[1];
    expect(example, `${name} has no example`).toBeDefined();
    const parsed = contract.payload.safeParse(JSON.parse(example ?? ''));
    expect(parsed.success, `${name}'s example: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
  }
});

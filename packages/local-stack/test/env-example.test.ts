import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { EmbeddedRedisEnv, envExampleProblems, parseEnvExample, readEnvExample } from '../src/index.ts';
import { DevEnv } from '../src/stack/env.ts';

describe('.env.example', () => {
  it("lists every variable of the local stack's schema with its default", async () => {
    expect(envExampleProblems(await readEnvExample(), 'packages/local-stack/src/stack/env.ts', [DevEnv, EmbeddedRedisEnv])).toEqual([]);
  });

  it('names what drifted: a missing, stale, wrong-default or wrongly commented variable', () => {
    const schema = z.object({ A: z.string().default('a'), B: z.string().optional(), C: z.string().default('c'), D: z.string().default('d') });
    const entries = parseEnvExample(['# === s ===', 'A=x', 'B=b', '# C=', 'E=1', 'A=a'].join('\n'));
    expect(envExampleProblems(entries, 's', [schema])).toEqual([
      'E is listed under s, whose schemas have no such variable',
      'A is listed twice',
      'B has no default; list it commented out: # B=',
      'C has a default ("c"); list it uncommented with that value',
      'D is missing',
    ]);
    expect(envExampleProblems(parseEnvExample('# === s ===\nA=x\n# B=\nC=c\nD=d'), 's', [schema])).toEqual(['A=x is not its default ("a")']);
  });
});

import { envExampleProblems, readEnvExample } from '@conveyor/local-stack';
import { describe, expect, it } from 'vitest';
import { Env } from '../src/env.ts';

describe('.env.example', () => {
  it("lists every variable of the API's schema with its default", async () => {
    expect(envExampleProblems(await readEnvExample(), 'apps/api/src/env.ts', [Env])).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { ConfigError, loadEnv } from '../../src/env.ts';

const problems = (env: Record<string, string>): string[] => {
  try {
    loadEnv(env);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
};

describe('front door settings', () => {
  it('parses RUNPOD_ENDPOINTS and OPENAI_MODELS, defaulting to none', () => {
    const none = loadEnv({});
    expect(none.RUNPOD_ENDPOINTS.size).toBe(0);
    expect(none.OPENAI_MODELS.size).toBe(0);
    const env = loadEnv({ RUNPOD_ENDPOINTS: 'sdxl=comfyui, llm=ollama', OPENAI_MODELS: 'gpt-4o-mini=openai,llama3=ollama:llama3.2:1b,mistral=runpod:abc_123' });
    expect([...env.RUNPOD_ENDPOINTS]).toEqual([
      ['sdxl', 'comfyui'],
      ['llm', 'ollama'],
    ]);
    expect([...env.OPENAI_MODELS.values()]).toEqual([
      { model: 'gpt-4o-mini', service: 'openai', target: 'gpt-4o-mini' },
      { model: 'llama3', service: 'ollama', target: 'llama3.2:1b' },
      { model: 'mistral', service: 'runpod', target: 'abc_123' },
    ]);
  });

  it('names the variable, the bad entry and the fix', () => {
    expect(problems({ RUNPOD_ENDPOINTS: 'sdxl=comfyui,bad,x=Nope,sdxl=ollama' })).toEqual([
      expect.stringMatching(/^RUNPOD_ENDPOINTS=".*": entry "bad" is not <endpoint id>=<service>; set RUNPOD_ENDPOINTS to /),
      expect.stringContaining('service "Nope" of endpoint "x" is not a service name'),
      expect.stringContaining('endpoint "sdxl" is listed twice'),
    ]);
    expect(problems({ OPENAI_MODELS: 'm=runpod,z=claude,plain' })).toEqual([
      expect.stringContaining('model "m" needs its RunPod endpoint id, e.g. m=runpod:abc123'),
      expect.stringContaining('service "claude" of model "z" is not one of openai, ollama, runpod'),
      expect.stringContaining('entry "plain" is not <model>=<service>[:<target>]'),
    ]);
  });
});

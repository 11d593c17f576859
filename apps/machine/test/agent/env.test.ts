import { describe, expect, it } from 'vitest';
import { KNOWN_CONNECTORS } from '../../src/agent/catalog.ts';
import { loadAgentConfig, requireRedisUrl } from '../../src/agent/env.ts';
import { ConfigError } from '../../src/agent/errors.ts';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadAgentConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('agent configuration', () => {
  it('parses names, counts and auto, with defaults for the rest', () => {
    const config = loadAgentConfig({ WORKER_CONNECTORS: ' comfyui:auto, openai:3 ,playwright', REDIS_URL: 'redis://127.0.0.1:6380' });
    expect(config.WORKER_CONNECTORS).toEqual([
      { name: 'comfyui', count: 'auto' },
      { name: 'openai', count: 3 },
      { name: 'playwright', count: 'auto' },
    ]);
    expect(config.COMFYUI_BASE_PORT).toBe(8188);
    expect(config.MACHINE_STRICT).toBe(false);
    expect(config.pm2Home).toBe(`${config.MACHINE_INSTALL_DIR}/pm2`);
    expect(config.MACHINE_ID).toMatch(/^[A-Za-z0-9._:/@+-]+$/);
  });

  it('reads elastic services and their timings, with defaults', () => {
    const config = loadAgentConfig({ WORKER_CONNECTORS: 'simulation', MACHINE_ELASTIC_SERVICES: 'playwright,ollama:2', MACHINE_ELASTIC_WAIT_MS: '1000' });
    expect(config.MACHINE_ELASTIC_SERVICES).toEqual([
      { name: 'playwright', count: 'auto' },
      { name: 'ollama', count: 2 },
    ]);
    expect([config.MACHINE_ELASTIC_WAIT_MS, config.MACHINE_ELASTIC_IDLE_MS, config.MACHINE_ELASTIC_CHECK_MS]).toEqual([1000, 300_000, 5000]);
    expect(loadAgentConfig({ WORKER_CONNECTORS: 'simulation' }).MACHINE_ELASTIC_SERVICES).toEqual([]);
  });

  it('names the elastic variable at fault: an unknown connector, one already in WORKER_CONNECTORS, a bad time', () => {
    expect(configError({ WORKER_CONNECTORS: 'simulation', MACHINE_ELASTIC_SERVICES: 'playwrite' }).issues).toEqual([
      { variable: 'MACHINE_ELASTIC_SERVICES', message: expect.stringContaining('unknown connector "playwrite"') },
    ]);
    expect(configError({ WORKER_CONNECTORS: 'simulation,playwright', MACHINE_ELASTIC_SERVICES: 'playwright' }).issues).toEqual([
      { variable: 'MACHINE_ELASTIC_SERVICES', message: 'playwright is also in WORKER_CONNECTORS, which runs it for good; list it in only one of them' },
    ]);
    expect(configError({ WORKER_CONNECTORS: 'simulation', MACHINE_ELASTIC_IDLE_MS: '10' }).issues).toEqual([
      { variable: 'MACHINE_ELASTIC_IDLE_MS', message: expect.stringContaining('at least 1000') },
    ]);
  });

  it('names WORKER_CONNECTORS and how to set it when it is missing', () => {
    const err = configError({});
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.issues).toEqual([{ variable: 'WORKER_CONNECTORS', message: expect.stringContaining('WORKER_CONNECTORS=simulation,playwright') }]);
  });

  it('rejects an unknown connector and lists the known ones', () => {
    const err = configError({ WORKER_CONNECTORS: 'simulation,stable-diffusion' });
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]?.variable).toBe('WORKER_CONNECTORS');
    expect(err.issues[0]?.message).toContain('unknown connector "stable-diffusion"');
    for (const known of KNOWN_CONNECTORS) expect(err.message).toContain(known);
  });

  it('rejects malformed entries, zero counts and duplicates, each with its own sentence', () => {
    const err = configError({ WORKER_CONNECTORS: 'simulation:0,openai:lots,playwright,playwright:2' });
    expect(err.issues.map((i) => i.variable)).toEqual(['WORKER_CONNECTORS', 'WORKER_CONNECTORS', 'WORKER_CONNECTORS']);
    expect(err.message).toContain('"simulation:0": the count must be at least 1');
    expect(err.message).toContain('"openai:lots" is not "name", "name:<count>" or "name:auto"');
    expect(err.message).toContain('connector "playwright" is listed twice');
  });

  it('names every bad variable at once', () => {
    const err = configError({
      WORKER_CONNECTORS: 'simulation',
      REDIS_URL: 'localhost:6379',
      MACHINE_GPU_COUNT: 'two',
      COMFYUI_BASE_PORT: '0',
      MACHINE_STRICT: 'yes',
      MACHINE_ID: 'has space',
    });
    expect(err.issues.map((i) => i.variable).sort()).toEqual(['COMFYUI_BASE_PORT', 'MACHINE_GPU_COUNT', 'MACHINE_ID', 'MACHINE_STRICT', 'REDIS_URL']);
    expect(err.message).toContain('REDIS_URL: "localhost:6379" is not a Redis URL; use redis://host:port, redis-sentinel://');
    expect(err.message).toContain('MACHINE_GPU_COUNT: must be a whole number (GPUs to simulate, e.g. MACHINE_GPU_COUNT=2)');
  });

  it('treats empty variables as unset', () => {
    const config = loadAgentConfig({ WORKER_CONNECTORS: 'simulation', MACHINE_GPU_COUNT: '', REDIS_URL: '' });
    expect(config.MACHINE_GPU_COUNT).toBeUndefined();
    expect(() => requireRedisUrl(config)).toThrow(/REDIS_URL: is not set; .*pnpm machine:local:up/);
  });
});

import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/agent/errors.ts';
import { loadWorkerConfig } from '../../src/worker/env.ts';

const base = { REDIS_URL: 'redis://127.0.0.1:6390', WORKER_SERVICES: 'simulation' };

function issues(env: NodeJS.ProcessEnv): { variable: string; message: string }[] {
  try {
    loadWorkerConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).issues];
  }
  throw new Error('expected a ConfigError');
}

describe('worker environment', () => {
  it('fills defaults', () => {
    const config = loadWorkerConfig({ ...base, MACHINE_ID: 'm1', WORKER_SERVICES: ' simulation , playwright ' });
    expect(config).toMatchObject({
      WORKER_SERVICES: ['simulation', 'playwright'],
      CONVEYOR_NAMESPACE: 'default',
      WORKER_CONCURRENCY: 1,
      WORKER_ID: `m1-worker-${process.pid}`,
      WORKER_MODELS: [],
      artifacts: { ARTIFACT_STORE: 'local', ARTIFACT_DIR: resolve('.conveyor/artifacts') },
      WORKER_DRAIN_GRACE_MS: 30_000,
    });
    expect(config.GPU_INDEX).toBeUndefined();
  });

  it('reads the shared artifact store settings and names what S3 is missing', () => {
    expect(issues({ ...base, WORKER_SERVICES: 'simulation', ARTIFACT_STORE: 's3' })).toEqual(
      expect.arrayContaining([expect.objectContaining({ variable: 'S3_BUCKET' })]),
    );
    const config = loadWorkerConfig({ ...base, WORKER_SERVICES: 'simulation', ARTIFACT_STORE: 's3', S3_BUCKET: 'b', S3_FORCE_PATH_STYLE: 'true' });
    expect(config.artifacts).toMatchObject({ ARTIFACT_STORE: 's3', S3_BUCKET: 'b', S3_FORCE_PATH_STYLE: true, S3_REGION: 'us-east-1' });
  });

  it('reads GPU, models, pool and limits', () => {
    const config = loadWorkerConfig({
      ...base,
      GPU_INDEX: '1',
      GPU_MEMORY_MB: '24576',
      WORKER_MODELS: 'sdxl,flux-dev',
      MACHINE_POOL: 'eu',
      WORKER_CONCURRENCY: '4',
      LEASE_MS: '5000',
      GPU_NAME: '',
    });
    expect(config).toMatchObject({ GPU_INDEX: 1, GPU_MEMORY_MB: 24576, WORKER_MODELS: ['sdxl', 'flux-dev'], MACHINE_POOL: 'eu', WORKER_CONCURRENCY: 4, LEASE_MS: 5000 });
    expect(config.GPU_NAME).toBeUndefined();
  });

  it('names missing variables and how to set them', () => {
    expect(issues({})).toEqual([
      { variable: 'REDIS_URL', message: expect.stringContaining('REDIS_URL=redis://') },
      { variable: 'WORKER_SERVICES', message: expect.stringContaining('e.g. WORKER_SERVICES=') },
    ]);
  });

  it('names unknown connectors and lists the known ones', () => {
    const [issue] = issues({ ...base, WORKER_SERVICES: 'simulation,teleport' });
    expect(issue?.variable).toBe('WORKER_SERVICES');
    expect(issue?.message).toMatch(/unknown connector "teleport"; known connectors: .*playwright.*simulation/);
    expect(issues({ ...base, WORKER_SERVICES: ' , ' })[0]?.message).toContain('lists no connectors');
    expect(issues({ ...base, WORKER_SERVICES: 'simulation,simulation' })[0]?.message).toContain('twice');
  });

  it('rejects malformed values by variable', () => {
    const found = issues({ ...base, REDIS_URL: 'localhost:6379', WORKER_CONCURRENCY: 'many', WORKER_MODELS: 'ok,not ok' });
    expect(found.map((i) => i.variable).sort()).toEqual(['REDIS_URL', 'WORKER_CONCURRENCY', 'WORKER_MODELS']);
    expect(found.find((i) => i.variable === 'WORKER_CONCURRENCY')?.message).toContain('e.g. WORKER_CONCURRENCY=4');
  });

  it('reads per-connector caps and leaves them unset by default', () => {
    expect(loadWorkerConfig(base).WORKER_SERVICE_CONCURRENCY).toBeUndefined();
    expect(loadWorkerConfig({ ...base, WORKER_SERVICE_CONCURRENCY: '' }).WORKER_SERVICE_CONCURRENCY).toBeUndefined();
    const config = loadWorkerConfig({
      ...base,
      WORKER_SERVICES: 'playwright,openai,simulation',
      WORKER_CONCURRENCY: '10',
      WORKER_SERVICE_CONCURRENCY: ' playwright=2 , openai=8 ',
    });
    expect(config.WORKER_SERVICE_CONCURRENCY).toEqual({ playwright: 2, openai: 8 });
  });

  it('names WORKER_SERVICE_CONCURRENCY and the fix when a cap is malformed, unknown, doubled or too high', () => {
    const env = { ...base, WORKER_SERVICES: 'playwright,simulation', WORKER_CONCURRENCY: '4' };
    const problem = (caps: string) => issues({ ...env, WORKER_SERVICE_CONCURRENCY: caps });
    expect(problem('playwright:2')).toEqual([
      { variable: 'WORKER_SERVICE_CONCURRENCY', message: expect.stringContaining('e.g. WORKER_SERVICE_CONCURRENCY=playwright=2,openai=8') },
    ]);
    expect(problem('playwright=0')).toEqual([{ variable: 'WORKER_SERVICE_CONCURRENCY', message: expect.stringContaining('at least 1') }]);
    expect(problem('playwright=1,playwright=2')).toEqual([{ variable: 'WORKER_SERVICE_CONCURRENCY', message: expect.stringContaining('twice') }]);
    expect(problem('openai=2')).toEqual([
      { variable: 'WORKER_SERVICE_CONCURRENCY', message: expect.stringMatching(/"openai", which WORKER_SERVICES \(playwright,simulation\) does not run/) },
    ]);
    expect(problem('playwright=5')).toEqual([
      { variable: 'WORKER_SERVICE_CONCURRENCY', message: expect.stringContaining('"playwright" at 5, over WORKER_CONCURRENCY (4)') },
    ]);
  });

  it('wants a GPU index and its memory together', () => {
    expect(issues({ ...base, GPU_INDEX: '0' })).toEqual([{ variable: 'GPU_MEMORY_MB', message: expect.stringContaining('set both or neither') }]);
    expect(issues({ ...base, GPU_MEMORY_MB: '8192' })).toEqual([{ variable: 'GPU_INDEX', message: expect.stringContaining('set both or neither') }]);
  });
});

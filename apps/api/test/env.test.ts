import { describe, expect, it } from 'vitest';
import { ConfigError, bindHost, loadEnv } from '../src/env.ts';

describe('env', () => {
  it('defaults to local mode on port 8080, bound to loopback', () => {
    const env = loadEnv({});
    expect(env).toMatchObject({ CONVEYOR_MODE: 'local', PORT: 8080, CONVEYOR_NAMESPACE: 'default' });
    expect(bindHost(env)).toBe('127.0.0.1');
    expect(bindHost(loadEnv({ CONVEYOR_MODE: 'server', REDIS_URL: 'redis://r:1' }))).toBe('0.0.0.0');
  });

  it('names the variable, the value and the fix for every bad setting', () => {
    let error: unknown;
    try {
      loadEnv({ PORT: 'eighty', CONVEYOR_MODE: 'cloud', REDIS_URL: 'localhost:6379' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, code } = error as ConfigError;
    expect(code).toBe('CONFIG_INVALID');
    expect(problems).toHaveLength(3);
    expect(problems.find((p) => p.startsWith('PORT="eighty"'))).toContain('set PORT to a TCP port number');
    expect(problems.find((p) => p.startsWith('CONVEYOR_MODE="cloud"'))).toContain('set CONVEYOR_MODE to local or server');
    expect(problems.find((p) => p.startsWith('REDIS_URL="localhost:6379"'))).toContain('redis://');
  });

  it('requires REDIS_URL in server mode', () => {
    expect(() => loadEnv({ CONVEYOR_MODE: 'server' })).toThrow(/REDIS_URL is unset/);
  });

  it('caps tenant priorities at 0 and batches at 1000 jobs unless told otherwise', () => {
    expect(loadEnv({})).toMatchObject({ CONVEYOR_MAX_PRIORITY: 0, CONVEYOR_BATCH_MAX_JOBS: 1000 });
    expect(loadEnv({ CONVEYOR_MAX_PRIORITY: '50', CONVEYOR_BATCH_MAX_JOBS: '10' })).toMatchObject({ CONVEYOR_MAX_PRIORITY: 50, CONVEYOR_BATCH_MAX_JOBS: 10 });
    expect(() => loadEnv({ CONVEYOR_MAX_PRIORITY: '-1' })).toThrow(/CONVEYOR_MAX_PRIORITY="-1".*set CONVEYOR_MAX_PRIORITY to a whole number from 0 to 1000/);
    expect(() => loadEnv({ CONVEYOR_BATCH_MAX_JOBS: '0' })).toThrow(/CONVEYOR_BATCH_MAX_JOBS="0"/);
  });

  it('treats empty variables as unset', () => {
    expect(loadEnv({ PORT: '', CONVEYOR_WEBHOOK_SECRET: '' }).PORT).toBe(8080);
  });
});

import { Broker } from '@conveyor/core';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { loadEnv } from '../src/env.ts';
import { useRedis } from './helpers.ts';

const redis = useRedis();

describe('replicated durability through the API', () => {
  it('answers 503 NOT_REPLICATED (retry with the same key) when no replica confirms a submit', async () => {
    const env = loadEnv({ REDIS_URL: redis().url, CONVEYOR_NAMESPACE: 'dur', CONVEYOR_DURABILITY: 'replicated', LOG_LEVEL: 'silent' });
    expect(env.CONVEYOR_DURABILITY).toBe('replicated');
    const broker = await Broker.connect({ redis: redis().url, namespace: 'dur', durability: env.CONVEYOR_DURABILITY, replicaTimeoutMs: 50 });
    const built = await buildApp(env, broker, pino({ level: 'silent' }));
    try {
      const res = await built.app.inject({
        method: 'POST',
        url: '/api/jobs',
        headers: { 'idempotency-key': 'k1' },
        payload: { service: 'simulation', payload: {} },
      });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.json()).toMatchObject({ error: { code: 'NOT_REPLICATED', message: expect.stringMatching(/same idempotency key/) } });
    } finally {
      await built.app.close();
      await broker.close();
    }
  });

  it('rejects an unknown mode, naming the variable and the choices', () => {
    expect(() => loadEnv({ CONVEYOR_DURABILITY: 'paranoid' })).toThrow(/CONVEYOR_DURABILITY="paranoid".*set CONVEYOR_DURABILITY to default, fsync or replicated/);
  });
});

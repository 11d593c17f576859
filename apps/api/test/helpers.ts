import { randomUUID } from 'node:crypto';
import { Broker, JobConsumer, type JobHandler } from '@conveyor/core';
import { startRedisServer, type RedisServer } from '@conveyor/testing';
import { pino } from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { buildApp, type BuiltApp } from '../src/app.ts';
import { loadEnv } from '../src/env.ts';

export interface TestApi extends BuiltApp {
  readonly broker: Broker;
  /** Base URL once `listen()` was called. */
  url: string;
  listen(): Promise<string>;
  /** Creates an API key directly in the store (what `pnpm conveyor keys create` does). */
  key(tenant: string, admin?: boolean): Promise<string>;
  close(): Promise<void>;
}

/** One real redis-server per test file; every API gets its own namespace so tests never share keys. */
export function useRedis(): () => RedisServer {
  let server: RedisServer | undefined;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (!server) throw new Error('redis-server not started yet');
    return server;
  };
}

export async function startApi(redis: RedisServer, env: Record<string, string> = {}, namespace = `t${randomUUID().slice(0, 8)}`): Promise<TestApi> {
  const parsed = loadEnv({ REDIS_URL: redis.url, CONVEYOR_NAMESPACE: namespace, LOG_LEVEL: 'silent', CONVEYOR_HEARTBEAT_MS: '1000', ...env });
  const broker = await Broker.connect({ redis: redis.url, namespace });
  const built = await buildApp(parsed, broker, pino({ level: parsed.LOG_LEVEL }));
  await built.runtime.start();
  await built.app.ready();
  const api: TestApi = {
    ...built,
    broker,
    url: '',
    async listen() {
      const address = await built.app.listen({ port: 0, host: '127.0.0.1' });
      api.url = address;
      return address;
    },
    async key(tenant, admin = false) {
      return (await built.runtime.apiKeys.create({ tenant, admin })).key;
    },
    async close() {
      built.runtime.live.drain(0);
      await built.app.close();
      await built.runtime.stop();
      await broker.close();
    },
  };
  return api;
}

/** A worker in the test process: runs `echo` jobs with `handler` (default: progress 50%, then echo the payload). */
export async function startWorker(broker: Broker, handler?: JobHandler, workerId = `w-${randomUUID().slice(0, 6)}`): Promise<JobConsumer> {
  const consumer = new JobConsumer({
    broker,
    capabilities: { workerId, machineId: 'test-machine', services: ['echo'], concurrency: 4 },
    heartbeatIntervalMs: 200,
    handler:
      handler ??
      (async (ctx) => {
        await ctx.progress({ percent: 50, message: 'half way' });
        return { echoed: ctx.job.payload };
      }),
  });
  await consumer.start();
  return consumer;
}

/** Polls until `check` returns a value (not undefined); fails with `what` instead of hanging. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const json = { 'content-type': 'application/json' };

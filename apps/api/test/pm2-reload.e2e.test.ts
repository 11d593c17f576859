import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Broker, type JobConsumer } from '@conveyor/core';
import { freePort } from '@conveyor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker, useRedis } from './helpers.ts';
import { buildApi } from './api-process.ts';
import { followJob } from './sse-client.ts';
import type * as Pm2Api from 'pm2';

type Pm2 = typeof Pm2Api;

const ecosystem = resolve(dirname(fileURLToPath(import.meta.url)), '../ecosystem.config.cjs');
const APP = `conveyor-api-test-${randomUUID().slice(0, 6)}`;
const redis = useRedis();
const savedEnv = { ...process.env };
let pm2: Pm2;
let pm2Home: string;
let broker: Broker;
let worker: JobConsumer;
let base: string;

const call = <T>(fn: (cb: (err: unknown, value: T) => void) => void) =>
  new Promise<T>((resolve, reject) => fn((err, value) => (err ? reject(err instanceof Error ? err : new Error(JSON.stringify(err))) : resolve(value))));

async function onlineInstances(): Promise<number> {
  const list = await call<{ name?: string; pm2_env?: { status?: string } }[]>((cb) => pm2.list(cb));
  return list.filter((p) => p.name === APP && p.pm2_env?.status === 'online').length;
}

beforeAll(async () => {
  buildApi();
  pm2Home = await mkdtemp(join(tmpdir(), 'conveyor-pm2-'));
  const namespace = `pm2${randomUUID().slice(0, 6)}`;
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  // PM2 reads PM2_HOME when it is loaded and the ecosystem file reads the rest when it is started.
  Object.assign(process.env, {
    PM2_HOME: pm2Home,
    REDIS_URL: redis().url,
    CONVEYOR_NAMESPACE: namespace,
    CONVEYOR_API_NAME: APP,
    CONVEYOR_API_INSTANCES: '2',
    CONVEYOR_LOG_DIR: join(pm2Home, 'logs'),
    CONVEYOR_TENANT_SUBMITS_PER_SEC: '0',
    CONVEYOR_SHUTDOWN_GRACE_MS: '5000',
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
  });
  // pm2 is CommonJS: its API object is the default export, which its typings do not declare.
  pm2 = ((await import('pm2')) as unknown as { default: Pm2 }).default;
  await call<void>((cb) => pm2.connect((err) => cb(err, undefined)));
  await call((cb) => pm2.start(ecosystem, cb));
  const deadline = Date.now() + 60_000;
  while ((await onlineInstances()) < 2 || !(await fetch(`${base}/ready`).then((r) => r.ok, () => false))) {
    if (Date.now() > deadline) throw new Error('PM2 cluster did not become ready');
    await sleep(200);
  }
  broker = await Broker.connect({ redis: redis().url, namespace });
  // Jobs take a while (several progress steps), so streams are open when an instance goes away.
  worker = await startWorker(broker, async (ctx) => {
    for (let step = 1; step <= 4; step++) {
      await sleep(80);
      await ctx.progress({ percent: step * 25 });
    }
    return { done: ctx.job.payload };
  });
}, 120_000);

afterAll(async () => {
  await worker?.stop(2000);
  await broker?.close();
  if (pm2) {
    await call((cb) => pm2.delete(APP, cb)).catch(() => undefined);
    await call((cb) => pm2.killDaemon(cb)).catch(() => undefined);
    pm2.disconnect();
  }
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
  Object.assign(process.env, savedEnv);
  await rm(pm2Home, { recursive: true, force: true });
}, 60_000);

interface Outcome {
  readonly id: string;
  readonly transportRetries: number;
  readonly ids: string[];
  readonly types: string[];
  readonly connections: number;
}

/**
 * What a well-behaved client does: submit with an Idempotency-Key, retrying the same key when the
 * connection drops, then follow the job's SSE stream, resuming with Last-Event-ID.
 */
async function submitAndFollow(n: number): Promise<Outcome> {
  const key = `reload-${n}`;
  let transportRetries = 0;
  for (;;) {
    let response: Response;
    try {
      response = await fetch(`${base}/api/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ service: 'echo', payload: n }),
      });
    } catch {
      transportRetries++;
      if (transportRetries > 20) throw new Error(`submit ${n}: connection kept failing`);
      await sleep(50);
      continue;
    }
    if (response.status !== 201 && response.status !== 200) throw new Error(`submit ${n} failed: ${response.status} ${await response.text()}`);
    const { id } = (await response.json()) as { id: string };
    const followed = await followJob(base, id);
    return { id, transportRetries, ...followed };
  }
}

describe('PM2 cluster', () => {
  it('reloads with no failed submit and no missed event', async () => {
    expect(await onlineInstances()).toBe(2);
    const outcomes: Outcome[] = [];
    let counter = 0;
    let stop = false;
    const client = async () => {
      while (!stop) outcomes.push(await submitAndFollow(counter++));
    };
    const clients = Array.from({ length: 4 }, client);

    const reloads = (async () => {
      try {
        for (let round = 0; round < 2; round++) {
          const before = outcomes.length;
          while (outcomes.length < before + 8) await sleep(50);
          await call((cb) => pm2.reload(APP, cb));
        }
        const after = outcomes.length;
        while (outcomes.length < after + 8) await sleep(50);
      } finally {
        stop = true;
      }
    })();
    await Promise.all([reloads, ...clients]);

    expect(await onlineInstances()).toBe(2);
    expect(new Set(outcomes.map((o) => o.id)).size).toBe(outcomes.length);
    for (const o of outcomes) {
      const timeline = await broker.timeline(o.id);
      expect(o.ids, `job ${o.id}`).toEqual(timeline.map((e) => e.id));
      expect(o.types.at(-1)).toBe('completed');
      expect(o.types.filter((t) => t === 'progress')).toHaveLength(4);
    }
    const resumed = outcomes.filter((o) => o.connections > 1).length;
    const retried = outcomes.reduce((n, o) => n + o.transportRetries, 0);
    console.info(`pm2 reload: ${outcomes.length} jobs, ${resumed} streams resumed with Last-Event-ID, ${retried} submit retries on dropped connections`);
    expect(resumed).toBeGreaterThan(0);
  }, 180_000);
});

import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Broker, type JobEvent } from '@conveyor/core';
import { freePort, startSentinelSet, type SentinelSet } from '@conveyor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnApi, type ApiProcess } from './api-process.ts';
import type * as Pm2Api from 'pm2';

/**
 * A bounded chaos run: jobs submitted through the API (in `replicated` durability, with an
 * idempotency key each, retried as a client would) while workers under real PM2 are SIGKILLed,
 * the API is SIGKILLed and restarted, the Redis primary is SIGKILLed and restarted from its AOF,
 * and the primary is killed for good so the sentinels fail over. Asserts 0 lost, 0 completed twice,
 * 0 duplicate jobs for one idempotency key, and prints the recovery times. CONVEYOR_CHAOS=long
 * runs a longer setting locally.
 */
const LONG = process.env.CONVEYOR_CHAOS === 'long';
const SETTING = LONG
  ? { jobs: 3000, workers: 4, workerKills: 20, jobMs: 300, submitGapMs: 20, pauseMs: 3000 }
  : { jobs: 200, workers: 3, workerKills: 3, jobMs: 300, submitGapMs: 120, pauseMs: 2500 };

type Pm2 = typeof Pm2Api;
const call = <T>(fn: (cb: (err: unknown, value: T) => void) => void) =>
  new Promise<T>((resolve, reject) => fn((err, value) => (err ? reject(err instanceof Error ? err : new Error(JSON.stringify(err))) : resolve(value))));

const machineDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../machine');
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const namespace = `chaos${randomUUID().slice(0, 6)}`;
const appName = (i: number) => `chaos-${namespace}-w${i}`;
const workerId = (i: number) => `chaos:w${i}`;

let set: SentinelSet;
let pm2: Pm2;
let pm2Home: string;
let api: ApiProcess;
let apiPort: number;
let observer: Broker;
const savedHome = process.env.PM2_HOME;

async function startApi(): Promise<ApiProcess> {
  return await spawnApi({
    REDIS_URL: set.url,
    CONVEYOR_NAMESPACE: namespace,
    CONVEYOR_DURABILITY: 'replicated',
    CONVEYOR_TENANT_SUBMITS_PER_SEC: '0',
    PORT: String(apiPort),
  });
}

async function workerPid(i: number): Promise<number | undefined> {
  const [proc] = await call<{ pid?: number; pm2_env?: { status?: string } }[]>((cb) => pm2.describe(appName(i), cb));
  return proc?.pm2_env?.status === 'online' && proc.pid ? proc.pid : undefined;
}

beforeAll(async () => {
  set = await startSentinelSet({ appendfsync: 'always' });
  apiPort = await freePort();
  api = await startApi();
  observer = await Broker.connect({ redis: set.url, namespace });
  pm2Home = await mkdtemp(join(tmpdir(), 'conveyor-pm2-'));
  process.env.PM2_HOME = pm2Home;
  // pm2 is CommonJS: its API object is the default export, which its typings do not declare.
  pm2 = ((await import('pm2')) as unknown as { default: Pm2 }).default;
  await call<void>((cb) => pm2.connect((err) => cb(err, undefined)));
  for (let i = 0; i < SETTING.workers; i++) {
    const app = {
      name: appName(i),
      script: join(machineDir, 'src/worker/main.ts'),
      interpreter: process.execPath,
      node_args: ['--import', tsxLoader],
      cwd: machineDir,
      autorestart: true,
      restart_delay: 100,
      max_restarts: 100,
      out_file: join(pm2Home, `w${i}.log`),
      error_file: join(pm2Home, `w${i}.log`),
      env: {
        REDIS_URL: set.url,
        CONVEYOR_NAMESPACE: namespace,
        MACHINE_ID: 'chaos',
        WORKER_ID: workerId(i),
        WORKER_SERVICES: 'simulation',
        WORKER_CONCURRENCY: '2',
        WORKER_HEARTBEAT_MS: '1000',
        LEASE_MS: '6000',
        ARTIFACT_DIR: join(pm2Home, 'artifacts'),
        LOG_LEVEL: 'warn',
      },
    };
    await call((cb) => pm2.start(app as Pm2Api.StartOptions, cb));
  }
  const deadline = Date.now() + 90_000;
  for (let i = 0; i < SETTING.workers; i++) {
    while (!(await workerPid(i))) {
      if (Date.now() > deadline) throw new Error(`worker ${i} did not come online`);
      await sleep(200);
    }
  }
}, 180_000);

afterAll(async () => {
  if (pm2) {
    for (let i = 0; i < SETTING.workers; i++) await call((cb) => pm2.delete(appName(i), cb)).catch(() => undefined);
    await call((cb) => pm2.killDaemon(cb)).catch(() => undefined);
    pm2.disconnect();
  }
  if (savedHome === undefined) delete process.env.PM2_HOME;
  else process.env.PM2_HOME = savedHome;
  await api?.stop('SIGKILL');
  await observer?.close();
  await set?.stop();
  if (pm2Home) await rm(pm2Home, { recursive: true, force: true });
}, 60_000);

/** A client that retries the same Idempotency-Key until the API acknowledges the submit. */
async function submit(n: number): Promise<string> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      const response = await fetch(`http://127.0.0.1:${apiPort}/api/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `chaos-${n}` },
        body: JSON.stringify({ service: 'simulation', payload: { durationMs: SETTING.jobMs, steps: 3 } }),
      });
      if (response.status === 201 || response.status === 200) return ((await response.json()) as { id: string }).id;
      if (response.status < 500) throw new Error(`submit ${n}: ${response.status} ${await response.text()}`);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith(`submit ${n}:`)) throw err;
    }
    if (Date.now() > deadline) throw new Error(`submit ${n}: not acknowledged within 90 s`);
    await sleep(100);
  }
}

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))] ?? Number.NaN;

describe(`chaos (${LONG ? 'long' : 'CI'} setting: ${SETTING.jobs} jobs, ${SETTING.workers} workers under PM2)`, () => {
  it('loses nothing, completes nothing twice and makes one job per idempotency key through worker, API and Redis kills and a failover', async () => {
    const started = Date.now();
    const ids = new Map<number, string>();
    const submitting = (async () => {
      const inFlight: Promise<void>[] = [];
      for (let n = 0; n < SETTING.jobs; n++) {
        inFlight.push(submit(n).then((id) => void ids.set(n, id)));
        await sleep(SETTING.submitGapMs);
      }
      await Promise.all(inFlight);
    })();

    const workerKills: { at: number; jobs: string[] }[] = [];
    let failoverAt = 0;
    let redisRestartAt = 0;
    let apiKillAt = 0;
    await sleep(SETTING.pauseMs * 2);
    for (let k = 0; k < SETTING.workerKills; k++) {
      const i = k % SETTING.workers;
      const pid = await workerPid(i);
      if (!pid) {
        await sleep(500);
        continue;
      }
      const held = (await observer.list({ status: 'active', limit: 100 })).jobs.filter((j) => j.worker === workerId(i)).map((j) => j.id);
      process.kill(pid, 'SIGKILL');
      workerKills.push({ at: Date.now(), jobs: held });
      await sleep(SETTING.pauseMs);
    }
    apiKillAt = Date.now();
    await api.stop('SIGKILL');
    api = await startApi();
    await sleep(SETTING.pauseMs);
    // Redis killed and restarted from its AOF (appendfsync always: nothing acknowledged is lost).
    const primary = await set.primary();
    await primary.kill('SIGKILL');
    redisRestartAt = Date.now();
    await primary.restart();
    await sleep(SETTING.pauseMs * 2);
    const failover = await set.killPrimary();
    failoverAt = failover.killedAt;
    await failover.killed.restart();
    await submitting;

    const all = [...ids.values()];
    expect(ids.size, 'every submit acknowledged').toBe(SETTING.jobs);
    expect(new Set(all).size, 'one job per idempotency key').toBe(SETTING.jobs);
    const deadline = Date.now() + 120_000;
    let statuses: (string | undefined)[] = [];
    for (;;) {
      statuses = await Promise.all(all.map(async (id) => (await observer.get(id))?.job.status));
      if (statuses.every((s) => s === 'completed') || Date.now() > deadline) break;
      await sleep(500);
    }
    expect(statuses.filter((s) => s === undefined).length, 'acknowledged jobs lost').toBe(0);
    expect(statuses.filter((s) => s !== 'completed'), 'jobs not completed').toEqual([]);

    const timelines = new Map<string, JobEvent[]>(await Promise.all(all.map(async (id) => [id, await observer.timeline(id)] as [string, JobEvent[]])));
    const completedTwice = [...timelines.entries()].filter(([, t]) => t.filter((e) => e.type === 'completed').length !== 1).map(([id]) => id);
    expect(completedTwice, 'jobs completed twice').toEqual([]);
    const counts = (await observer.stats()).counts;
    expect(Object.values(counts).reduce((a, b) => a + b, 0), 'jobs in the namespace').toBe(SETTING.jobs);

    const activeAgain: number[] = [];
    const givenBack: number[] = [];
    for (const kill of workerKills) {
      for (const id of kill.jobs) {
        const after = (timelines.get(id) ?? []).filter((e) => e.ts > kill.at);
        const back = after.find((e) => e.type === 'lease-released' || e.type === 'lease-expired');
        const next = after.find((e) => e.type === 'active');
        if (back) givenBack.push(back.ts - kill.at);
        if (next) activeAgain.push(next.ts - kill.at);
      }
    }
    const firstClaimAfter = (at: number) => Math.min(...[...timelines.values()].flatMap((t) => t.filter((e) => e.type === 'active' && e.ts > at).map((e) => e.ts))) - at;
    const released = [...timelines.values()].filter((t) => t.some((e) => e.type === 'lease-released')).length;
    const stalled = [...timelines.values()].filter((t) => t.some((e) => e.type === 'lease-expired')).length;
    process.stdout.write(
      [
        `chaos (${LONG ? 'long' : 'CI'}): ${SETTING.jobs} jobs, 0 lost, 0 completed twice, 0 duplicates in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        `  worker SIGKILL → its jobs active again: p50 ${percentile(activeAgain, 0.5)} ms, max ${Math.max(...activeAgain)} ms (${activeAgain.length} jobs, ${workerKills.length} kills; ${released} jobs given back on restart, ${stalled} by lease expiry)`,
        `  worker SIGKILL → its jobs given back (PM2 restart + worker start): p50 ${percentile(givenBack, 0.5)} ms, max ${Math.max(...givenBack)} ms`,
        `  API SIGKILL → first claim ${firstClaimAfter(apiKillAt)} ms; Redis SIGKILL + AOF restart → first claim ${firstClaimAfter(redisRestartAt)} ms`,
        `  primary failover: promoted in ${failover.failoverMs} ms, kill → first claim ${firstClaimAfter(failoverAt)} ms`,
      ].join('\n') + '\n',
    );
    expect(activeAgain.length).toBeGreaterThan(0);
  }, LONG ? 1_800_000 : 180_000);
});

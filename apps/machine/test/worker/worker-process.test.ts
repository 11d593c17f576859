import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, LocalArtifactStore, type ArtifactRef, type Job, type JobStatus } from '@conveyor/core';
import { startRedisServer, type RedisServer } from '@conveyor/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startPageServer, type PageServer } from '../connectors/http-fixture.ts';
import { pngSize } from '../connectors/harness.ts';
import { fleetState, spawnWorker, type SpawnedWorker } from './spawn-worker.ts';

const NAMESPACE = 'workerproc';

describe('worker process', { timeout: 60_000 }, () => {
  let server: RedisServer;
  let broker: Broker;
  let pages: PageServer;
  let artifactDir: string;
  const spawned: SpawnedWorker[] = [];

  const start = async (workerId: string, extra: Record<string, string> = {}) => {
    const worker = spawnWorker({
      REDIS_URL: server.url,
      CONVEYOR_NAMESPACE: NAMESPACE,
      MACHINE_ID: 'test-machine',
      WORKER_ID: workerId,
      WORKER_SERVICES: 'simulation,playwright',
      WORKER_CONCURRENCY: '3',
      ARTIFACT_DIR: artifactDir,
      WORKER_HEARTBEAT_MS: '500',
      LOG_LEVEL: 'info',
      ...extra,
    });
    spawned.push(worker);
    await fleetState(broker, workerId, (s) => s.status === 'idle');
    return worker;
  };

  const settled = async (ids: readonly string[], statuses: readonly JobStatus[] = ['completed', 'failed', 'cancelled']): Promise<Job[]> =>
    await vi.waitFor(
      async () => {
        const jobs = await Promise.all(ids.map(async (id) => (await broker.get(id))?.job));
        const open = jobs.filter((j) => !j || !statuses.includes(j.status));
        if (open.length > 0) throw new Error(`${open.length} jobs not yet ${statuses.join('/')}`);
        return jobs as Job[];
      },
      { timeout: 40_000, interval: 50 },
    );

  const submitSims = async (n: number, payload: Record<string, unknown>) =>
    await Promise.all(
      Array.from({ length: n }, async (_, i) => (await broker.submit({ service: 'simulation', payload: { ...payload, result: i } })).id),
    );

  beforeAll(async () => {
    server = await startRedisServer();
    broker = await Broker.connect({ redis: server.url, namespace: NAMESPACE });
    pages = await startPageServer();
    artifactDir = await mkdtemp(join(tmpdir(), 'conveyor-worker-artifacts-'));
  });

  afterAll(async () => {
    for (const w of spawned) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await Promise.all(spawned.map((w) => w.exited));
    await broker?.close();
    await pages?.close();
    await server?.stop();
    if (artifactDir) await rm(artifactDir, { recursive: true, force: true });
  });

  describe('while running', () => {
    let worker: SpawnedWorker;
    beforeAll(async () => {
      worker = await start('w-main');
    });

    it('runs simulation jobs to completion', async () => {
      const ids = await submitSims(5, { durationMs: 50, steps: 5 });
      const jobs = await settled(ids);
      expect(jobs.map((j) => j.status)).toEqual(Array(5).fill('completed'));
      expect(jobs.map((j) => (j.result as { result: number }).result)).toEqual([0, 1, 2, 3, 4]);
      expect(jobs.every((j) => j.worker === 'w-main' && j.machine === 'test-machine')).toBe(true);
    });

    it('returns a real PNG artifact from a playwright screenshot job', async () => {
      const { id } = await broker.submit({
        service: 'playwright',
        tenant: 'acme',
        payload: { url: `${pages.origin}/page`, viewport: { width: 400, height: 300 } },
      });
      const [job] = await settled([id]);
      expect(job?.status, JSON.stringify(job?.error)).toBe('completed');
      const { artifact, title } = job?.result as { artifact: ArtifactRef; title: string };
      expect(title).toBe('Fixture page');
      expect(artifact.key).toBe(`acme/${id}/screenshot.png`);
      const stored = await new LocalArtifactStore(artifactDir).get(artifact.key);
      expect(stored?.size).toBe(artifact.size);
      expect(pngSize(stored?.data ?? Buffer.alloc(0))).toEqual({ width: 400, height: 300 });
    });

    it('fails a malformed payload for good, naming the field, and keeps working', async () => {
      const { id } = await broker.submit({ service: 'simulation', payload: { durationMs: 'slow' } });
      const [bad] = await settled([id]);
      expect(bad).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'INVALID_INPUT', retryable: false } });
      expect(bad?.error?.message).toContain('payload.durationMs');
      const [after] = await settled(await submitSims(1, { durationMs: 10, steps: 1 }));
      expect(after?.status).toBe('completed');
      expect(worker.child.exitCode).toBeNull();
    });

    it('publishes its state and logs every job line with the job and worker ids', async () => {
      const state = await fleetState(broker, 'w-main', (s) => s.status === 'idle' && s.jobsDone >= 7);
      expect(state).toMatchObject({ machineId: 'test-machine', services: ['simulation', 'playwright'], concurrency: 3, currentJobs: [] });
      expect(state.jobsFailed).toBeGreaterThanOrEqual(1);
      const jobLines = worker.logs.filter((l) => 'jobId' in l);
      expect(jobLines.filter((l) => l.msg === 'job started').length).toBeGreaterThanOrEqual(7);
      expect(jobLines.every((l) => l.workerId === 'w-main')).toBe(true);
      expect(worker.logs.some((l) => l.msg === 'payload rejected' && l.jobId !== undefined)).toBe(true);
    });

    it('does not count a job cancelled while it runs as a failure of the worker', async () => {
      const before = await fleetState(broker, 'w-main', (s) => s.status === 'idle');
      const { id } = await broker.submit({ service: 'simulation', payload: { durationMs: 5000, steps: 5 } });
      await fleetState(broker, 'w-main', (s) => s.currentJobs.some((j) => j.id === id));
      await broker.cancel(id);
      const [cancelled] = await settled([id], ['cancelled']);
      expect(cancelled?.status).toBe('cancelled');
      const after = await fleetState(broker, 'w-main', (s) => s.status === 'idle' && s.currentJobs.length === 0);
      expect(after.jobsFailed).toBe(before.jobsFailed);
      expect(after.jobsDone).toBe(before.jobsDone);
    });

    it('drains on SIGTERM: running jobs finish, unclaimed ones wait, nothing is lost', async () => {
      const ids = await submitSims(6, { durationMs: 1500, steps: 3 });
      await fleetState(broker, 'w-main', (s) => s.currentJobs.length === 3);
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toEqual({ code: 0, signal: null });
      expect((await fleetState(broker, 'w-main', () => true)).status).toBe('stopped');
      const afterDrain = await settled(ids, ['completed', 'pending']);
      expect(afterDrain.filter((j) => j.status === 'completed').length).toBeGreaterThanOrEqual(3);
      expect(worker.logs.some((l) => l.msg === 'worker stopped')).toBe(true);

      const second = await start('w-second');
      const finished = await settled(ids);
      expect(finished.map((j) => j.status)).toEqual(Array(6).fill('completed'));
      for (const id of ids) {
        const timeline = (await broker.get(id))?.timeline ?? [];
        expect(timeline.filter((e) => e.type === 'completed')).toHaveLength(1);
      }
      second.child.kill('SIGTERM');
      expect((await second.exited).code).toBe(0);
    });
  });

  it('gives running jobs back to the queue when the drain grace runs out', async () => {
    const impatient = await start('w-impatient', { WORKER_DRAIN_GRACE_MS: '100', WORKER_SERVICES: 'simulation' });
    const ids = await submitSims(2, { durationMs: 3000, steps: 6 });
    await fleetState(broker, 'w-impatient', (s) => s.currentJobs.length === 2);
    impatient.child.kill('SIGTERM');
    expect(await impatient.exited).toEqual({ code: 0, signal: null });
    for (const id of ids) {
      const timeline = (await broker.get(id))?.timeline ?? [];
      expect(timeline.find((e) => e.type === 'retrying')?.error).toMatchObject({ code: 'WORKER_SHUTDOWN', retryable: true });
    }
    const finisher = await start('w-finisher', { WORKER_SERVICES: 'simulation' });
    const finished = await settled(ids);
    expect(finished.map((j) => [j.status, j.worker])).toEqual([
      ['completed', 'w-finisher'],
      ['completed', 'w-finisher'],
    ]);
    finisher.child.kill('SIGTERM');
    expect((await finisher.exited).code).toBe(0);
  });

  it('runs no more of a connector at once than WORKER_SERVICE_CONCURRENCY allows', async () => {
    const capped = await start('w-capped', { WORKER_SERVICES: 'simulation', WORKER_SERVICE_CONCURRENCY: 'simulation=1' });
    const jobs = (await settled(await submitSims(3, { durationMs: 300, steps: 1 }))).sort((a, b) => (a.startedAt ?? 0) - (b.startedAt ?? 0));
    expect(jobs.map((j) => [j.status, j.worker])).toEqual(Array(3).fill(['completed', 'w-capped']));
    for (let i = 1; i < jobs.length; i++) expect(jobs[i]?.startedAt).toBeGreaterThanOrEqual(jobs[i - 1]?.finishedAt ?? Infinity);
    capped.child.kill('SIGTERM');
    expect((await capped.exited).code).toBe(0);
  });

  it('refuses to start on a bad environment, naming the variable', async () => {
    const bad = spawnWorker({ REDIS_URL: server.url, WORKER_SERVICES: 'simulation,teleport' });
    spawned.push(bad);
    expect((await bad.exited).code).toBe(1);
    expect(bad.stderr()).toMatch(/WORKER_SERVICES: unknown connector "teleport"; known connectors: .*playwright.*simulation/);
  });
});

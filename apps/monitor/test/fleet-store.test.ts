import { describe, expect, it } from 'vitest';
import { FleetStore, liveStatus, MAX_JOBS, OFFLINE_AFTER_MS, queueSample, workerCounts } from '../src/state/fleet-store.ts';
import { applyEvent } from '../src/state/job-rows.ts';
import { delta, event, job, jobId, machine, snapshot, T0, worker } from './samples.ts';

const storeAt = (now = T0) => new FleetStore(() => now);

describe('FleetStore', () => {
  it('takes machines, workers, queues and jobs from a snapshot', () => {
    const store = storeAt();
    const j = job();
    store.applySnapshot(snapshot({ recentJobs: [j] }));
    const view = store.view();
    expect([...view.machines.keys()]).toEqual(['gpu-box-1']);
    expect([...view.workers.keys()]).toEqual(['gpu-box-1:worker-api']);
    expect(view.jobs.get(j.id)?.status).toBe('pending');
    expect(view.queues?.queues[0]?.depth).toBe(4);
    expect(view.syncedAt).toBe(T0);
  });

  it('applies fleet upserts and removals from a delta and publishes a new view', () => {
    const store = storeAt();
    store.applySnapshot(snapshot());
    const before = store.view();
    store.applyDelta(
      delta({
        fleet: [
          { kind: 'machine', machine: machine({ machineId: 'box-2', status: 'installing' }) },
          { kind: 'worker-removed', workerId: 'gpu-box-1:worker-api' },
        ],
      }),
    );
    const after = store.view();
    expect(after).not.toBe(before);
    expect(after.machines.get('box-2')?.status).toBe('installing');
    expect(after.machines.get('box-2')?.lastSeen).toBe(T0 + 250);
    expect(after.workers.size).toBe(0);
    expect(before.workers.size).toBe(1);
  });

  it('follows a job through its events and counts finished ones for throughput', () => {
    const store = storeAt();
    store.applySnapshot(snapshot({ recentJobs: [] }));
    const id = jobId();
    store.applyDelta(delta({ jobs: [event({ job: id, type: 'pending', service: 'simulation', ts: T0 + 1 })] }));
    store.applyDelta(delta({ seq: 12, jobs: [event({ job: id, type: 'active', worker: 'w1', machine: 'm1', attempt: 1, ts: T0 + 2 })] }));
    store.applyDelta(delta({ seq: 13, jobs: [event({ job: id, type: 'progress', progress: { percent: 60 }, ts: T0 + 3 })] }));
    const active = store.view().jobs.get(id);
    expect(active).toMatchObject({ service: 'simulation', status: 'active', worker: 'w1', machine: 'm1', attempts: 1, progress: { percent: 60 } });
    store.applyDelta(delta({ seq: 14, jobs: [event({ job: id, type: 'completed', ts: T0 + 4 })] }));
    expect(store.view().jobs.get(id)).toMatchObject({ status: 'completed', finishedAt: T0 + 4, progress: { percent: 100 } });
    expect(store.view().throughput.totals(T0 + 10).completed).toBe(1);
  });

  it('tells job-detail listeners about events of their job only', () => {
    const store = storeAt();
    const seen: string[] = [];
    const a = jobId();
    const off = store.onJobEvent(a, (e) => seen.push(e.type));
    store.applyDelta(delta({ jobs: [event({ job: a, type: 'pending' }), event({ job: jobId(), type: 'pending' }), event({ job: a, type: 'active' })] }));
    off();
    store.applyDelta(delta({ jobs: [event({ job: a, type: 'completed' })] }));
    expect(seen).toEqual(['pending', 'active']);
  });

  it('reports unfinished rows a resync snapshot no longer mentions, so they can be refetched', () => {
    const store = storeAt();
    const kept = job({ status: 'active' });
    const gone = job({ status: 'active' });
    const done = job({ status: 'completed' });
    store.applySnapshot(snapshot({ recentJobs: [kept, gone, done] }));
    expect(store.applySnapshot(snapshot({ reason: 'resync', recentJobs: [kept] }))).toEqual([gone.id]);
  });

  it('never lets an older answer overwrite a newer row', () => {
    const store = storeAt();
    const j = job({ status: 'active', updatedAt: T0 + 100 });
    store.upsertJobs([j]);
    store.upsertJobs([{ ...j, status: 'pending', updatedAt: T0 }]);
    expect(store.view().jobs.get(j.id)?.status).toBe('active');
  });

  it('keeps at most MAX_JOBS rows, dropping the oldest finished ones first', () => {
    const store = storeAt();
    const jobs = Array.from({ length: MAX_JOBS * 1.1 + 10 }, (_, i) => job({ id: jobId(T0 + i, i), status: i === 0 ? 'active' : 'completed' }));
    store.upsertJobs(jobs);
    const rows = store.view().jobs;
    expect(rows.size).toBe(MAX_JOBS);
    expect(rows.has(jobs[0]?.id as string)).toBe(true);
    expect(rows.has(jobs[1]?.id as string)).toBe(false);
    expect(rows.has(jobs.at(-1)?.id as string)).toBe(true);
  });

  it('forgets fleet entries Redis has expired, on the periodic tick', () => {
    let now = T0;
    const store = new FleetStore(() => now);
    store.applySnapshot(snapshot());
    now += 4 * OFFLINE_AFTER_MS + 1000;
    store.tick();
    expect(store.view().machines.size).toBe(0);
    expect(store.view().workerHistory.all.length).toBeGreaterThan(0);
  });

  it('seeds throughput from finished jobs from before it connected', () => {
    const store = storeAt();
    store.seedThroughput(
      [job({ status: 'completed', finishedAt: T0 - 60_000 }), job({ status: 'failed', finishedAt: T0 - 30_000 }), job({ status: 'completed', finishedAt: T0 + 5 })],
      T0,
      T0 - 120_000,
    );
    expect(store.view().throughput.totals(T0)).toEqual({ completed: 1, failed: 1 });
    expect(store.view().throughput.coveredSince).toBe(T0 - 120_000);
  });
});

describe('derived fleet figures', () => {
  it('marks an entry offline once its heartbeats stop, but never a stopped one', () => {
    expect(liveStatus(worker({ lastSeen: T0 }), T0 + OFFLINE_AFTER_MS - 1)).toBe('busy');
    expect(liveStatus(worker({ lastSeen: T0 }), T0 + OFFLINE_AFTER_MS + 1)).toBe('offline');
    expect(liveStatus(worker({ status: 'stopped', lastSeen: T0 }), T0 + OFFLINE_AFTER_MS + 1)).toBe('stopped');
  });

  it('sums queue depth per service and takes the oldest waiting job', () => {
    const q = (service: string, depth: number, since: number) => ({ sig: `${service}${depth}`, spec: { service, tenant: 't', requirements: {} }, depth, oldestPendingSince: since, liveWorkers: 1 });
    const sample = queueSample({ now: T0, counts: {}, queues: [q('a', 2, T0 - 5000), q('a', 3, T0 - 9000), q('b', 0, T0)] }, T0);
    expect(sample.depth).toEqual({ a: 5, b: 0 });
    expect(sample.oldestMs).toEqual({ a: 9000 });
  });

  it('counts busy, idle and other workers', () => {
    const counts = workerCounts([worker(), worker({ workerId: 'x', status: 'idle' }), worker({ workerId: 'y', status: 'draining' }), worker({ workerId: 'z', status: 'stopped' })], T0);
    expect(counts).toEqual({ busy: 1, idle: 1, other: 1 });
  });
});

describe('applyEvent', () => {
  it('treats a retry as a delayed job that keeps the error', () => {
    const id = jobId();
    const error = { code: 'X', message: 'boom', retryable: true };
    const row = applyEvent(applyEvent(undefined, event({ job: id, type: 'active', ts: T0 })), event({ job: id, type: 'retrying', error, ts: T0 + 1 }));
    expect(row).toMatchObject({ status: 'delayed', error });
  });

  it('ignores an event older than the row', () => {
    const id = jobId();
    const row = applyEvent(undefined, event({ job: id, type: 'completed', ts: T0 + 10 }));
    expect(applyEvent(row, event({ job: id, type: 'active', ts: T0 }))).toBe(row);
  });

  it('marks a requested cancel without changing the status', () => {
    const id = jobId();
    const row = applyEvent(applyEvent(undefined, event({ job: id, type: 'active', ts: T0 })), event({ job: id, type: 'cancel-requested', ts: T0 + 1 }));
    expect(row).toMatchObject({ status: 'active', cancelRequested: true });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MonitorServerMessage } from '../src/ws/protocol.ts';
import { startApi, useRedis, type TestApi } from './helpers.ts';
import { refusedUpgrade, TestSocket } from './ws-client.ts';

type Msg = MonitorServerMessage;

const redis = useRedis();
let api: TestApi;
let admin: string;
let monitorUrl: string;

beforeAll(async () => {
  api = await startApi(redis(), { CONVEYOR_MODE: 'server', CONVEYOR_MONITOR_BATCH_MS: '50', CONVEYOR_MONITOR_QUEUES_MS: '100' });
  await api.listen();
  monitorUrl = `${api.url.replace('http', 'ws')}/ws/monitor`;
  admin = await api.key('ops', true);
});
afterAll(async () => {
  await api.close();
});

const openMonitor = () => TestSocket.open(monitorUrl, MonitorServerMessage, { authorization: `Bearer ${admin}` });
const submit = (payload: unknown) =>
  fetch(`${api.url}/api/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
    body: JSON.stringify({ service: 'echo', payload }),
  }).then(async (r) => ((await r.json()) as { id: string }).id);

const worker = (workerId: string, status: 'idle' | 'busy') => ({
  workerId,
  machineId: 'm-9',
  services: ['echo'],
  status,
  concurrency: 1,
  currentJobs: [],
  jobsDone: 0,
  jobsFailed: 0,
  updatedAt: Date.now(),
});

/** Connections open to this test's redis-server; a per-monitor subscription would add one per monitor. */
async function redisConnections(): Promise<number> {
  return String(await api.broker.redis.client('LIST'))
    .split('\n')
    .filter((line) => line.trim() !== '').length;
}

describe('/ws/monitor', () => {
  it('sends a snapshot, then batched deltas of job and fleet changes', async () => {
    await api.broker.fleet.putWorker(worker('w-9', 'idle'));
    const existing = await submit('before');
    const monitor = await openMonitor();
    expect((await monitor.next((m: Msg) => m.type === 'hello')).type).toBe('hello');
    const snapshot = await monitor.next((m: Msg): m is Extract<Msg, { type: 'snapshot' }> => m.type === 'snapshot');
    expect(snapshot.reason).toBe('initial');
    expect(snapshot.workers.map((w) => w.workerId)).toEqual(['w-9']);
    expect(snapshot.recentJobs.map((j) => j.id)).toContain(existing);
    expect(snapshot.queues.queues.find((q) => q.spec.service === 'echo')?.depth).toBe(1);

    const id = await submit('after');
    await api.broker.fleet.putWorker(worker('w-9', 'busy'));
    const jobDelta = await monitor.next((m: Msg) => m.type === 'delta' && m.jobs.some((e) => e.job === id));
    expect(jobDelta.type === 'delta' && jobDelta.seq).toBeGreaterThan(snapshot.seq);
    const fleetDelta = await monitor.next((m: Msg) => m.type === 'delta' && m.fleet.some((f) => f.kind === 'worker' && f.worker.status === 'busy'));
    expect(fleetDelta.type).toBe('delta');
    const queuesDelta = await monitor.next((m: Msg) => m.type === 'delta' && m.queues?.queues.some((q) => q.depth === 2) === true);
    expect(queuesDelta.type).toBe('delta');

    monitor.send({ type: 'resync', ref: 'again' });
    const fresh = await monitor.next((m: Msg) => m.type === 'snapshot' && m.ref === 'again');
    expect(fresh.type === 'snapshot' && fresh.reason).toBe('requested');
    await monitor.close();
  });

  it('shares one Redis subscription among many monitors', async () => {
    const first = await openMonitor();
    await first.next((m: Msg) => m.type === 'snapshot');
    const connections = await redisConnections();
    const more = await Promise.all(Array.from({ length: 5 }, () => openMonitor()));
    await Promise.all(more.map((m) => m.next((x: Msg) => x.type === 'snapshot')));
    expect(api.runtime.monitors.size).toBe(6);
    expect(await redisConnections()).toBe(connections);

    const id = await submit('fan-out');
    for (const m of [first, ...more]) await m.next((x: Msg) => x.type === 'delta' && x.jobs.some((e) => e.job === id));
    await Promise.all([first, ...more].map((m) => m.close()));
  });

  it('answers bad messages with errors and refuses non-admin keys with 403', async () => {
    const monitor = await openMonitor();
    monitor.send({ type: 'subscribe', jobId: 'x' });
    const error = await monitor.next((m: Msg) => m.type === 'error');
    expect(error.type === 'error' && error.error.code).toBe('INVALID_INPUT');
    monitor.send({ type: 'ping', ref: 'p' });
    await monitor.next((m: Msg) => m.type === 'pong');
    await monitor.close();

    const tenant = await api.key('acme');
    expect(await refusedUpgrade(monitorUrl, { authorization: `Bearer ${tenant}` })).toBe(403);
    expect(await refusedUpgrade(monitorUrl)).toBe(401);
  });
});

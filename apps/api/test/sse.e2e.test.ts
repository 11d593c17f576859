import type { JobConsumer } from '@conveyor/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startApi, startWorker, useRedis, type TestApi } from './helpers.ts';
import { followJob, readSse } from './sse-client.ts';

const redis = useRedis();
let api: TestApi;
let worker: JobConsumer | undefined;

beforeAll(async () => {
  api = await startApi(redis());
  await api.listen();
});
afterAll(async () => {
  await worker?.stop(1000);
  await api.close();
});

const submit = async (payload: unknown) => {
  const res = await fetch(`${api.url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ service: 'echo', payload }) });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
};

describe('GET /api/jobs/:id/events over a real connection', () => {
  it('streams status, progress and the result, then ends', async () => {
    worker ??= await startWorker(api.broker);
    const id = await submit({ n: 1 });
    const followed = await followJob(api.url, id);
    expect(followed.types).toEqual(['pending', 'active', 'progress', 'completed']);
    expect(followed.result).toEqual({ echoed: { n: 1 } });
    const timeline = await api.broker.timeline(id);
    expect(followed.ids).toEqual(timeline.map((e) => e.id));
  });

  it('resumes from Last-Event-ID with nothing missed and nothing repeated', async () => {
    await worker?.stop(1000);
    worker = undefined;
    const id = await submit({ n: 2 });
    const firstIds: string[] = [];
    const first = await readSse(`${api.url}/api/jobs/${id}/events`, {}, (m) => {
      if (m.id) firstIds.push(m.id);
      return 'stop';
    });
    expect(first.ended).toBe('stopped');
    expect(firstIds).toEqual(['1']);

    // The job runs while no client is connected; the reconnect must deliver everything after the last id seen.
    worker = await startWorker(api.broker);
    await eventually('job completed', async () => ((await api.broker.get(id))?.job.status === 'completed' ? true : undefined));
    const restIds: string[] = [];
    const types: string[] = [];
    let ended = false;
    await readSse(`${api.url}/api/jobs/${id}/events`, { lastEventId: firstIds[0] }, (m) => {
      if (m.event === 'end') ended = true;
      else if (m.id) {
        restIds.push(m.id);
        types.push(m.event ?? '');
      }
    });
    expect(ended).toBe(true);
    expect(types).toEqual(['active', 'progress', 'completed']);
    expect(restIds).toEqual(['2', '3', '4']);
    expect([...firstIds, ...restIds]).toEqual((await api.broker.timeline(id)).map((e) => e.id));
  });

  it('resumes a timeline written as a stream by an older version from its stream ids', async () => {
    await worker?.stop(1000);
    worker = undefined;
    const id = await submit({ n: 4 });
    const key = api.broker.keys.timeline(id);
    await api.broker.redis.del(key);
    // As that version stored the job: with a createdAt field.
    await api.broker.redis.hset(api.broker.keys.job(id), 'createdAt', id.slice(0, 13));
    const first = await api.broker.redis.xadd(key, '*', 'job', id, 'tenant', 'default', 'type', 'pending', 'ts', '1', 'service', 'echo');
    worker = await startWorker(api.broker);
    const types: string[] = [];
    const outcome = await readSse(`${api.url}/api/jobs/${id}/events`, { lastEventId: first ?? '' }, (m) => {
      if (m.id && m.event) types.push(m.event);
    });
    expect(outcome).toMatchObject({ status: 200, ended: 'closed' });
    expect(types).toEqual(['active', 'progress', 'completed']);
  });

  it('answers a malformed Last-Event-ID with 400 and an unknown job with 404', async () => {
    const id = await submit(3);
    const bad = await readSse(`${api.url}/api/jobs/${id}/events`, { lastEventId: 'yesterday' }, () => 'stop');
    expect(bad.status).toBe(400);
    expect(bad.error).toMatchObject({ error: { code: 'INVALID_INPUT', issues: [{ path: 'headers' }] } });
    const missing = await readSse(`${api.url}/api/jobs/1700000000000-0000000009/events`, {}, () => 'stop');
    expect(missing.status).toBe(404);
  });

  it('counts finished jobs and their durations in /metrics', async () => {
    const text = await (await fetch(`${api.url}/metrics`)).text();
    expect(text).toMatch(/conveyor_jobs_finished_total\{service="echo",status="completed"\} [1-9]/);
    expect(text).toMatch(/conveyor_job_run_seconds_count\{service="echo"\} [1-9]/);
    expect(text).toMatch(/conveyor_job_queue_seconds_count\{service="echo"\} [1-9]/);
  });
});

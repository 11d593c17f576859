import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { LeaseLostError } from '../../src/index.ts';
import { useRedis, worker } from '../helpers.ts';

const redis = useRedis();

describe('promote', () => {
  it('moves only due delayed jobs back to pending', async () => {
    const broker = await redis.broker();
    const due = await broker.submit({ service: 'sim', payload: 'due', delayMs: 1 });
    await broker.submit({ service: 'sim', payload: 'later', delayMs: 3_600_000 });
    await sleep(5);
    expect(await broker.promote()).toBe(1);
    expect(await broker.promote()).toBe(0);
    const [c] = await broker.claim(broker.identify(worker('w')), 5);
    expect(c?.job.id).toBe(due.id);
    expect((await broker.get(due.id))?.timeline.map((e) => e.type)).toEqual(['delayed', 'pending', 'active']);
  });
});

describe('reap', () => {
  it('requeues an expired lease as a stall, not an attempt; the old token is rejected', async () => {
    const broker = await redis.broker({ reapIntervalMs: 50 });
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    const w = broker.identify(worker('w'));
    const [dead] = await broker.claim(w, 1, 20);
    await sleep(30);
    expect(await broker.reap()).toMatchObject({ requeued: 1, failed: 0, cancelled: 0 });
    const [again] = await broker.claim(w, 1);
    expect(again?.job).toMatchObject({ id, attempts: 1, stalls: 1 });
    await expect(broker.complete(dead!.lease, 'late')).rejects.toBeInstanceOf(LeaseLostError);
    await broker.complete(again!.lease, 'on time');
    expect((await broker.get(id))?.job.result).toBe('on time');
    const types = (await broker.timeline(id)).map((e) => e.type);
    expect(types).toEqual(['pending', 'active', 'lease-expired', 'pending', 'active', 'completed']);
  });

  it('runs at most once per interval across callers', async () => {
    const broker = await redis.broker({ reapIntervalMs: 60_000 });
    expect(await broker.reap()).not.toBeNull();
    expect(await broker.reap()).toBeNull();
  });

  it('fails the job with STALLED once it has lost more leases than its maxStalls, whatever its attempts', async () => {
    const broker = await redis.broker({ reapIntervalMs: 50 });
    const { id } = await broker.submit({ service: 'sim', payload: {}, maxStalls: 0, maxAttempts: 5 });
    await broker.claim(broker.identify(worker('w')), 1, 10);
    await sleep(20);
    expect(await broker.reap()).toMatchObject({ requeued: 0, failed: 1, cancelled: 0 });
    expect((await broker.get(id))?.job).toMatchObject({ status: 'failed', error: { code: 'STALLED', retryable: false } });
  });

  it('ends a job cancelled when its cancel was requested before the worker died', async () => {
    const broker = await redis.broker({ reapIntervalMs: 50 });
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    await broker.claim(broker.identify(worker('w')), 1, 10);
    await broker.cancel(id);
    await sleep(20);
    expect(await broker.reap()).toMatchObject({ requeued: 0, failed: 0, cancelled: 1 });
    expect((await broker.get(id))?.job.status).toBe('cancelled');
  });

  it('leaves live leases alone', async () => {
    const broker = await redis.broker({ reapIntervalMs: 50 });
    await broker.submit({ service: 'sim', payload: {} });
    await broker.claim(broker.identify(worker('w')), 1, 60_000);
    expect(await broker.reap()).toMatchObject({ requeued: 0, failed: 0, cancelled: 0 });
  });
});

describe('housekeeping turn', () => {
  it('stays with the worker that holds it, is refused to others, and is handed back on deregister', async () => {
    const broker = await redis.broker();
    const holder = broker.identify(worker('holder'));
    expect(await broker.reap(100, 'holder')).not.toBeNull();
    expect(await broker.reap(100, 'holder')).not.toBeNull();
    expect(await broker.reap(100, 'other')).toBeNull();
    await broker.deregister(holder);
    expect(await broker.reap(100, 'other')).not.toBeNull();
  });
});

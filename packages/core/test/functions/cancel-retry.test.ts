import { describe, expect, it } from 'vitest';
import { InvalidStateError, JobNotFoundError, ValidationError } from '../../src/index.ts';
import { useRedis, worker } from '../helpers.ts';

const redis = useRedis();

describe('cancel', () => {
  it('cancels a pending job at once and removes it from its index', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: {}, requirements: { tags: ['t'] } });
    expect(await broker.cancel(id)).toBe('cancelled');
    expect(await broker.claim(broker.identify(worker('w', { tags: ['t'] })), 5)).toEqual([]);
    expect((await broker.get(id))?.job).toMatchObject({ status: 'cancelled' });
    expect((await broker.stats()).queues).toEqual([]);
  });

  it('cancels a delayed job at once', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: {}, delayMs: 10 });
    expect(await broker.cancel(id)).toBe('cancelled');
    expect(await broker.redis.zcard(broker.keys.delayed())).toBe(0);
  });

  it('requests cancellation of an active job and tells its worker on its channel', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    await broker.claim(broker.identify(worker('w7')), 1);
    const received: string[] = [];
    const stop = await broker.onWorkerSignal('w7', (s) => received.push(s.type === 'cancel' ? s.jobId : s.type));
    expect(await broker.cancel(id)).toBe('cancel-requested');
    await expect.poll(() => received).toEqual([id]);
    expect((await broker.get(id))?.job).toMatchObject({ status: 'active', cancelRequested: true });
    await stop();
  });

  it('refuses to cancel a finished job, an unknown job and a malformed id', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    await broker.cancel(id);
    await expect(broker.cancel(id)).rejects.toBeInstanceOf(InvalidStateError);
    await expect(broker.cancel('1795000000000-0000000000')).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(broker.cancel('../etc')).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('retry', () => {
  it('runs a failed job again with a fresh attempt budget', async () => {
    const broker = await redis.broker({ retentionMs: 60_000 });
    const { id } = await broker.submit({ service: 'sim', payload: {}, maxAttempts: 1 });
    const w = broker.identify(worker('w'));
    const [c] = await broker.claim(w, 1);
    await broker.fail(c!.lease, { code: 'X', message: 'x', retryable: true });
    await broker.retry(id);
    const job = (await broker.get(id))!.job;
    expect(job).toMatchObject({ status: 'pending', attempts: 0 });
    expect(job.error).toBeUndefined();
    expect(await broker.redis.pttl(broker.keys.job(id))).toBe(-1);
    const [again] = await broker.claim(w, 1);
    expect(again?.job.id).toBe(id);
  });

  it('runs a cancelled job again, but not a pending or completed one', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    await expect(broker.retry(id)).rejects.toBeInstanceOf(InvalidStateError);
    await broker.cancel(id);
    await broker.retry(id);
    expect((await broker.get(id))?.job.status).toBe('pending');
  });
});

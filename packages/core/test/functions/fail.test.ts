import { describe, expect, it } from 'vitest';
import { LeaseLostError } from '../../src/index.ts';
import { useRedis, worker } from '../helpers.ts';

const redis = useRedis();
const boom = { code: 'BOOM', message: 'exploded', retryable: true };

describe('fail', () => {
  it('retries with exponential backoff into delayed, then fails for good after max attempts', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({
      service: 'sim',
      payload: {},
      maxAttempts: 3,
      backoff: { type: 'exponential', delayMs: 100, maxDelayMs: 150 },
    });
    const w = broker.identify(worker('w'));
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const [c] = await broker.claim(w, 1);
      expect(c?.job.attempts).toBe(attempt);
      const outcome = await broker.fail(c!.lease, boom);
      const job = (await broker.get(id))!.job;
      if (attempt < 3) {
        expect(outcome).toBe('delayed');
        expect(job.status).toBe('delayed');
        delays.push(job.dueAt! - job.updatedAt);
        await broker.redis.zadd(broker.keys.delayed(), 0, id);
        expect(await broker.promote()).toBe(1);
      } else {
        expect(outcome).toBe('failed');
        expect(job).toMatchObject({ status: 'failed', error: boom, attempts: 3 });
      }
    }
    expect(delays).toEqual([100, 150]);
  });

  it('fails at once on a non-retryable error', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: {}, maxAttempts: 5 });
    const [c] = await broker.claim(broker.identify(worker('w')), 1);
    expect(await broker.fail(c!.lease, { code: 'BAD_INPUT', message: 'no', retryable: false })).toBe('failed');
    expect((await broker.get(id))?.job.status).toBe('failed');
  });

  it("uses the error's retry-after delay over the backoff", async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: {}, backoff: { type: 'fixed', delayMs: 5 } });
    const [c] = await broker.claim(broker.identify(worker('w')), 1);
    await broker.fail(c!.lease, boom, { retryAfterMs: 7000 });
    const job = (await broker.get(id))!.job;
    expect(job.dueAt! - job.updatedAt).toBe(7000);
  });

  it('a retried job keeps its place in line', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: 'first', backoff: { type: 'fixed', delayMs: 0 } });
    await broker.submit({ service: 'sim', payload: 'second' });
    const w = broker.identify(worker('w'));
    const [c] = await broker.claim(w, 1);
    await broker.fail(c!.lease, boom);
    await broker.promote();
    const [again] = await broker.claim(w, 1);
    expect(again?.job.id).toBe(id);
  });

  it('ends cancelled when cancellation was requested, whatever the error', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    const [c] = await broker.claim(broker.identify(worker('w')), 1);
    await broker.cancel(id);
    expect(await broker.fail(c!.lease, boom)).toBe('cancelled');
    expect((await broker.get(id))?.job.status).toBe('cancelled');
  });

  it('rejects a stale lease', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    await broker.claim(broker.identify(worker('w')), 1);
    await expect(broker.fail({ jobId: id, token: 'old' }, boom)).rejects.toBeInstanceOf(LeaseLostError);
  });
});

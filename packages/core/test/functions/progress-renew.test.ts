import { describe, expect, it } from 'vitest';
import { LeaseLostError } from '../../src/index.ts';
import { useRedis, worker } from '../helpers.ts';

const redis = useRedis();

describe('progress', () => {
  it('records progress, streams it, and reports a requested cancellation', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    const [c] = await broker.claim(broker.identify(worker('w')), 1);
    expect(await broker.progress(c!.lease, { percent: 40, message: 'sampling' })).toEqual({ cancelRequested: false });
    expect((await broker.get(id))?.job.progress).toEqual({ percent: 40, message: 'sampling' });
    await broker.cancel(id);
    expect(await broker.progress(c!.lease, { percent: 50 })).toEqual({ cancelRequested: true });
    const events = await broker.timeline(id);
    expect(events.find((e) => e.type === 'progress')?.progress).toEqual({ percent: 40, message: 'sampling' });
  });

  it('rejects out-of-range progress and a lost lease', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    const [c] = await broker.claim(broker.identify(worker('w')), 1);
    await expect(broker.progress(c!.lease, { percent: 101 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(broker.progress({ jobId: id, token: 'x' }, { percent: 1 })).rejects.toBeInstanceOf(LeaseLostError);
  });
});

describe('renew', () => {
  it('extends a batch of leases in one call and reports each one', async () => {
    const broker = await redis.broker();
    for (let i = 0; i < 3; i++) await broker.submit({ service: 'sim', payload: i });
    const claimed = await broker.claim(broker.identify(worker('w')), 3, 1000);
    await broker.cancel(claimed[1]!.job.id);
    await broker.complete(claimed[2]!.lease, null);
    const before = Number(await broker.redis.zscore(broker.keys.active(), claimed[0]!.job.id));
    const outcomes = await broker.renew(claimed.map((c) => c.lease), 60_000);
    expect(outcomes).toEqual(['renewed', 'cancel-requested', 'lost']);
    const after = Number(await broker.redis.zscore(broker.keys.active(), claimed[0]!.job.id));
    expect(after).toBeGreaterThanOrEqual(before + 59_000);
    expect(await broker.renew([])).toEqual([]);
  });
});

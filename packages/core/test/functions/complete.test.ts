import { describe, expect, it } from 'vitest';
import { JobNotFoundError, LeaseLostError } from '../../src/index.ts';
import { useRedis, worker } from '../helpers.ts';

const redis = useRedis();

describe('complete', () => {
  it('records the result once; a second completion is rejected as a lost lease', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    const [c] = await broker.claim(broker.identify(worker('w')), 1);
    await broker.complete(c!.lease, { images: ['a.png'] });
    await expect(broker.complete(c!.lease, { images: ['b.png'] })).rejects.toBeInstanceOf(LeaseLostError);
    const job = (await broker.get(id))?.job;
    expect(job).toMatchObject({ status: 'completed', result: { images: ['a.png'] }, progress: { percent: 100 } });
    expect(job?.leaseDeadline).toBeUndefined();
    expect(await broker.redis.zscore(broker.keys.active(), id)).toBeNull();
  });

  it('keeps the message and data of the last progress, at 100 percent', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    const [c] = await broker.claim(broker.identify(worker('w')), 1);
    await broker.progress(c!.lease, { percent: 97, message: 'done: 2 output files', data: { promptId: 'p1' } });
    await broker.complete(c!.lease, null);
    expect((await broker.get(id))?.job.progress).toEqual({ percent: 100, message: 'done: 2 output files', data: { promptId: 'p1' } });
  });

  it('rejects a wrong token and writes nothing', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    await broker.claim(broker.identify(worker('w')), 1);
    await expect(broker.complete({ jobId: id, token: 'forged' }, 1)).rejects.toMatchObject({ code: 'LEASE_LOST' });
    expect((await broker.get(id))?.job.status).toBe('active');
  });

  it('rejects an unknown job', async () => {
    const broker = await redis.broker();
    await expect(broker.complete({ jobId: '0000000000000-0000000001', token: 't' }, 1)).rejects.toBeInstanceOf(JobNotFoundError);
  });

  it('expires finished jobs after the retention period and trims the status index', async () => {
    const broker = await redis.broker({ retentionMs: 60_000 });
    const { id } = await broker.submit({ service: 'sim', payload: {} });
    const [c] = await broker.claim(broker.identify(worker('w')), 1);
    await broker.complete(c!.lease, null);
    const ttl = await broker.redis.pttl(broker.keys.job(id));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    // Its short timeline is in the job hash: one key expires.
    expect(await broker.redis.exists(broker.keys.timeline(id))).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import type { Broker, JobSubmission, WorkerIdentity } from '../../src/index.ts';
import { commandsRunBy, listenAs, useRedis, worker } from '../helpers.ts';

const redis = useRedis();

async function submitAll(broker: Broker, jobs: readonly JobSubmission[]): Promise<void> {
  for (let i = 0; i < jobs.length; i += 1000) await Promise.all(jobs.slice(i, i + 1000).map((j) => broker.submit(j)));
}

const preferring = (models: number, perModel: number): JobSubmission[] =>
  Array.from({ length: models * perModel }, (_, i) => ({ service: 'sim', payload: i, prefer: { models: [`m${i % models}`] } }));

/** Commands of one claim(1) of a worker holding m0 and m1, after a warm-up claim. */
async function warmClaimCost(broker: Broker, w: WorkerIdentity): Promise<number> {
  await broker.exchange(w, 1, [], { warm: ['m0', 'm1'] });
  let taken = 0;
  const calls = await commandsRunBy(broker.redis, async () => {
    taken = (await broker.exchange(w, 1, [], { warm: ['m0', 'm1'] })).jobs.length;
  });
  expect(taken).toBe(1);
  return calls;
}

describe('warm-model routing at fleet scale', () => {
  it('a claim costs the same with 5,000 models pending as with 2', async () => {
    const small = await redis.broker();
    await submitAll(small, preferring(2, 3));
    const few = await warmClaimCost(small, small.identify(worker('w')));

    const large = await redis.broker();
    await submitAll(large, preferring(5_000, 2));
    const many = await warmClaimCost(large, large.identify(worker('w')));
    // With 5,000 models a signature's two jobs are 5,000 jobs apart in rank, so the next one sits in
    // another rank bucket (includes/sig_queue.lua): three commands more to reach it, whatever the count.
    expect(many).toBeLessThanOrEqual(few + 3);
  }, 120_000);

  it('a submit costs the same with 2,000 idle warm workers holding 2,000 models as with 2', async () => {
    async function submitCost(workers: number): Promise<number> {
      const broker = await redis.broker();
      const ids = Array.from({ length: workers }, (_, i) => `w${i}`);
      for (let i = 0; i < workers; i += 500) {
        await Promise.all(ids.slice(i, i + 500).map((id, j) => broker.exchange(broker.identify(worker(id)), 1, [], { warm: [`m${i + j}`, `n${i + j}`] })));
      }
      // The workers listen, as live ones do: the one woken is pushed the job.
      const { woken, stop } = await listenAs(broker, ids);
      const calls = await commandsRunBy(broker.redis, () => broker.submit({ service: 'sim', payload: 1, prefer: { models: ['m1'] } }));
      // The worker holding m1 was woken, not the longest idle one.
      await expect.poll(() => woken).toEqual(['w1']);
      await stop();
      return calls;
    }
    expect(await submitCost(2_000)).toBeLessThanOrEqual(await submitCost(2));
  }, 120_000);

  it('a submit preferring models to a fleet with no idle worker adds only its index writes and demand count', async () => {
    const broker = await redis.broker();
    const base = await commandsRunBy(broker.redis, () => broker.submit({ service: 'sim', payload: 1 }));
    const models = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const warm = await commandsRunBy(broker.redis, () => broker.submit({ service: 'sim', payload: 2, prefer: { models } }));
    // One HGET of the spec (its preferred models), and MULTI + 8 ZINCRBY + PEXPIRE + EXEC for
    // demand; no class can run it yet, so no index write; the wake-up stops at its first read.
    expect(warm - base).toBe(1 + models.length + 3);
  });
});

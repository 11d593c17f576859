import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/index.ts';
import { useRedis, worker } from '../helpers.ts';

const redis = useRedis();

describe('submit', () => {
  it('creates a pending job with a time-ordered id, its timeline and a global event', async () => {
    const broker = await redis.broker();
    const a = await broker.submit({ service: 'sim', payload: { n: 1 } });
    const b = await broker.submit({ service: 'sim', payload: { n: 2 } });
    expect(a.duplicate).toBe(false);
    expect(a.id < b.id).toBe(true);
    const got = await broker.get(a.id);
    expect(got?.job).toMatchObject({ status: 'pending', service: 'sim', tenant: 'default', attempts: 0, maxAttempts: 3 });
    expect(got?.timeline.map((e) => e.type)).toEqual(['pending']);
    expect(await broker.redis.xlen(broker.keys.events())).toBe(2);
  });

  it('is idempotent per tenant and key: same key returns the same job and enqueues nothing', async () => {
    const broker = await redis.broker();
    const first = await broker.submit({ service: 'sim', payload: 1, idempotencyKey: 'k1' });
    const again = await broker.submit({ service: 'sim', payload: 2, idempotencyKey: 'k1' });
    const otherTenant = await broker.submit({ service: 'sim', payload: 3, idempotencyKey: 'k1', tenant: 'acme' });
    expect(again).toEqual({ id: first.id, duplicate: true });
    expect(otherTenant.id).not.toBe(first.id);
    expect((await broker.stats()).counts.pending).toBe(2);
    expect((await broker.get(first.id))?.job.payload).toBe(1);
  });

  it('stores a delayed job outside the pending indexes until it is due', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'sim', payload: {}, delayMs: 60_000 });
    const job = (await broker.get(id))?.job;
    expect(job?.status).toBe('delayed');
    expect(job?.dueAt).toBe((job?.createdAt ?? 0) + 60_000);
    expect(await broker.claim(broker.identify(worker('w')), 5)).toEqual([]);
  });

  it('ranks by fair-share tag minus the priority offset: each job of a tenant adds 1024 / its weight', async () => {
    const broker = await redis.broker({ priorityWeight: 60_000 });
    const first = await broker.submit({ service: 'sim', payload: {}, priority: 1000 });
    const second = await broker.submit({ service: 'sim', payload: {} });
    await broker.redis.hset(broker.keys.fairShare(), broker.keys.weightField('heavy'), 4);
    const heavy = await broker.submit({ service: 'sim', tenant: 'heavy', payload: {} });
    // The rank is stored apart from the tag only where the priority makes them differ.
    const rankOf = async (id: string) => {
      const [rank, tag] = await broker.redis.hmget(broker.keys.job(id), 'rank', 'tag');
      return Number(rank ?? tag);
    };
    expect(await rankOf(first.id)).toBe(1024 - 1000 * 60_000 * 1024);
    expect(await rankOf(second.id)).toBe(2048);
    expect(await rankOf(heavy.id)).toBe(256);
    expect(await broker.redis.hexists(broker.keys.job(second.id), 'rank')).toBe(0);
  });

  it.each([
    [{ service: 'Bad Name', payload: 1 }, 'service'],
    [{ service: 'sim' }, 'payload'],
    [{ service: 'sim', payload: 1, priority: 1.5 }, 'priority'],
    [{ service: 'sim', payload: 1, priority: 5000 }, 'priority'],
    [{ service: 'sim', payload: 1, extra: true }, 'extra'],
    [{ service: 'sim', payload: 1, requirements: { gpuMemoryMb: -1 } }, 'requirements.gpuMemoryMb'],
    [{ service: 'sim', payload: 1, requirements: { colour: 'red' } }, 'requirements.colour'],
    [{ service: 'sim', payload: 1, workflow: { id: 'w', step: 3, total: 2 } }, 'workflow.step'],
    [{ service: 'sim', payload: 1, webhook: { url: 'ftp://x' } }, 'webhook.url'],
    [{ service: 'sim', payload: 'x'.repeat(2 * 1024 * 1024) }, 'payload'],
  ])('rejects %j naming "%s" and writes nothing', async (input, path) => {
    const broker = await redis.broker();
    const before = await broker.redis.keys(`${broker.keys.root}*`);
    const error = await broker.submit(input as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.path)).toContain(path);
    expect(await broker.redis.keys(`${broker.keys.root}*`)).toEqual(before);
  });

  it('rejects a payload that is not JSON-serialisable', async () => {
    const broker = await redis.broker();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const error = await broker.submit({ service: 'sim', payload: cyclic }).catch((e: unknown) => e);
    expect((error as ValidationError).issues[0]?.path).toBe('payload');
    expect(await broker.redis.keys(`${broker.keys.root}*`)).toEqual([]);
  });
});

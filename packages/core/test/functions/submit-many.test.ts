import { describe, expect, it } from 'vitest';
import { useRedis } from '../helpers.ts';

const redis = useRedis();

describe('submitMany', () => {
  it('submits every item and answers in input order', async () => {
    const broker = await redis.broker();
    const results = await broker.submitMany([1, 2, 3].map((n) => ({ service: 'sim', payload: { n } })));
    expect(results.map((r) => r.ok)).toEqual([true, true, true]);
    const ids = results.map((r) => (r.ok ? r.id : ''));
    for (const [i, id] of ids.entries()) expect((await broker.get(id))?.job.payload).toEqual({ n: i + 1 });
    expect((await broker.stats()).counts.pending).toBe(3);
  });

  it('refuses an invalid item alone, naming its fields, and submits the rest', async () => {
    const broker = await redis.broker();
    const results = await broker.submitMany([
      { service: 'sim', payload: 'a' },
      { service: 'Bad Service', payload: 'b', priority: 5000 } as never,
      { service: 'sim', payload: 'c' },
    ]);
    expect(results[0]).toMatchObject({ ok: true, duplicate: false });
    expect(results[1]).toEqual({
      ok: false,
      error: { code: 'INVALID_INPUT', message: expect.stringContaining('service'), issues: expect.arrayContaining([expect.objectContaining({ path: 'priority' })]) },
    });
    expect(results[2]).toMatchObject({ ok: true, duplicate: false });
    expect((await broker.stats()).counts.pending).toBe(2);
  });

  it('keeps idempotency per item, also between items of one batch', async () => {
    const broker = await redis.broker();
    const first = await broker.submit({ service: 'sim', payload: 0, idempotencyKey: 'k0' });
    const results = await broker.submitMany([
      { service: 'sim', payload: 1, idempotencyKey: 'k0' },
      { service: 'sim', payload: 2, idempotencyKey: 'k1' },
      { service: 'sim', payload: 3, idempotencyKey: 'k1' },
    ]);
    expect(results[0]).toEqual({ ok: true, id: first.id, duplicate: true });
    expect(results.slice(1).map((r) => r.ok && r.duplicate).sort()).toEqual([false, true]);
    expect(new Set(results.slice(1).map((r) => r.ok && r.id)).size).toBe(1);
    expect((await broker.stats()).counts.pending).toBe(2);
  });

  it('answers an empty batch with no results', async () => {
    const broker = await redis.broker();
    expect(await broker.submitMany([])).toEqual([]);
  });
});

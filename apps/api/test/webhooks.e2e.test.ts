import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NonRetryableError, type JobConsumer } from '@conveyor/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../src/webhooks/signature.ts';
import { eventually, startApi, startWorker, useRedis, type TestApi } from './helpers.ts';

interface Received {
  readonly path: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A real HTTP receiver: answers each path's posts with the listed statuses in turn (then 200). */
async function startReceiver(plan: Record<string, number[]>): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body });
      res.statusCode = plan[path]?.shift() ?? 200;
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, server };
}

const redis = useRedis();
const env = {
  CONVEYOR_WEBHOOK_SECRET: 'server-wide-secret-123456',
  CONVEYOR_WEBHOOK_BACKOFF_MS: '30',
  CONVEYOR_WEBHOOK_POLL_MS: '20',
  CONVEYOR_WEBHOOK_MAX_ATTEMPTS: '4',
};
let apis: TestApi[];
let worker: JobConsumer;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  // Two instances on one namespace, as under PM2: each delivery attempt must still happen once.
  const first = await startApi(redis(), env);
  apis = [first, await startApi(redis(), env, first.broker.options.namespace)];
  worker = await startWorker(first.broker, async (ctx) => {
    if ((ctx.job.payload as { fail?: boolean }).fail) throw new NonRetryableError('boom');
    return { ok: true };
  });
  receiver = await startReceiver({ '/flaky': [500, 503], '/down': [500, 500, 500, 500, 500] });
});
afterAll(async () => {
  await worker.stop(1000);
  for (const api of apis) await api.close();
  receiver.server.close();
});

const submit = async (body: unknown) => {
  const res = await apis[0]!.app.inject({ method: 'POST', url: '/api/jobs', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  expect(res.statusCode).toBe(201);
  return res.json<{ id: string }>().id;
};

const webhookEntries = async (api: TestApi, id: string) => (await api.broker.timeline(id)).filter((e) => e.type === 'webhook');

describe('webhooks', () => {
  it('posts a signed job on completion, retrying with backoff, each attempt on the timeline', async () => {
    const secret = 'per-job-secret-abcdefgh';
    const id = await submit({ service: 'echo', payload: { n: 1 }, webhook: { url: `${receiver.url}/flaky`, secret } });
    const entries = await eventually('delivered entry', async () => {
      const list = await webhookEntries(apis[0]!, id);
      return list.some((e) => e.delivery === 'delivered') ? list : undefined;
    });
    expect(entries.map((e) => [e.delivery, e.webhookAttempt, e.httpStatus])).toEqual([
      ['retrying', 1, 500],
      ['retrying', 2, 503],
      ['delivered', 3, 200],
    ]);
    expect(entries[0]?.dueAt).toBeGreaterThan(entries[0]!.ts);
    expect(entries[0]!.ts).toBeGreaterThan(Date.now() - 60_000);
    // Webhook entries continue the job's own numbering.
    const all = await apis[0]!.broker.timeline(id);
    expect(all.map((e) => e.id)).toEqual(all.map((_, i) => String(i + 1)));
    expect(all.at(-1)).toMatchObject({ type: 'webhook', delivery: 'delivered', job: id, tenant: 'default' });

    const posts = receiver.received.filter((r) => r.path === '/flaky');
    expect(posts).toHaveLength(3);
    for (const post of posts) {
      expect(verifySignature(secret, String(post.headers['conveyor-signature']), post.body)).toBe(true);
      expect(verifySignature('wrong-secret-wrong-secret', String(post.headers['conveyor-signature']), post.body)).toBe(false);
      const body = JSON.parse(post.body);
      expect(body).toMatchObject({ event: 'job.completed', job: { id, status: 'completed', result: { ok: true }, webhook: { signed: true } } });
      expect(post.body).not.toContain(secret);
    }
  });

  it('signs with the server secret when the job has none, and gives up after the last attempt', async () => {
    const id = await submit({ service: 'echo', payload: { fail: true }, maxAttempts: 1, webhook: { url: `${receiver.url}/down` } });
    const entries = await eventually('gave-up entry', async () => {
      const list = await webhookEntries(apis[1]!, id);
      return list.some((e) => e.delivery === 'gave-up') ? list : undefined;
    });
    expect(entries.map((e) => e.delivery)).toEqual(['retrying', 'retrying', 'retrying', 'gave-up']);
    expect(entries.at(-1)?.reason).toContain('HTTP 500');
    const posts = receiver.received.filter((r) => r.path === '/down');
    expect(posts).toHaveLength(4);
    expect(JSON.parse(posts[0]!.body).event).toBe('job.failed');
    expect(verifySignature(env.CONVEYOR_WEBHOOK_SECRET, String(posts[0]!.headers['conveyor-signature']), posts[0]!.body)).toBe(true);
    expect(await apis[0]!.broker.redis.zcard(apis[0]!.broker.keys.webhooks())).toBe(0);
  });

  it('in server mode, gives up at once on a non-public destination, sending nothing', async () => {
    // The API refuses such a URL at submit; a job written by another broker client still must not reach it.
    const strict = await startApi(redis(), { ...env, CONVEYOR_MODE: 'server' });
    const strictWorker = await startWorker(strict.broker, async () => ({ ok: true }));
    try {
      const { id } = await strict.broker.submit({ service: 'echo', payload: 1, webhook: { url: `${receiver.url.replace('127.0.0.1', 'localhost')}/internal` } });
      const entries = await eventually('gave-up entry', async () => {
        const list = await webhookEntries(strict, id);
        return list.some((e) => e.delivery === 'gave-up') ? list : undefined;
      });
      expect(entries.map((e) => [e.delivery, e.webhookAttempt])).toEqual([['gave-up', 1]]);
      expect(entries[0]?.reason).toMatch(/^destination refused: .*localhost/);
      expect(receiver.received.filter((r) => r.path === '/internal')).toEqual([]);
    } finally {
      await strictWorker.stop(1000);
      await strict.close();
    }
  });
});

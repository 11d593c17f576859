import { Broker, NonRetryableError, type JobConsumer } from '@conveyor/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobHashTransactions } from '../../src/routes/runpod/job-hash-transactions.ts';
import { statusBody } from '../../src/routes/runpod/status.ts';
import { attachRunPodWebhook } from '../../src/routes/runpod/webhook.ts';
import { DeliveryQueue } from '../../src/webhooks/delivery-queue.ts';
import { WEBHOOK_GROUP } from '../../src/webhooks/trigger.ts';
import { eventually, startApi, startWorker, useRedis, type TestApi } from '../helpers.ts';
import { startWebhookReceiver, type WebhookReceiver } from './runpod-receiver.ts';

/**
 * The race a RunPod webhook must survive: /run submits the job, then attaches the webhook, and a
 * fast worker may finish the job in between, before or after the webhook trigger read the
 * finish's event. Staged here deterministically with the API stopped while the job runs.
 */
describe('a RunPod webhook attached after its job already finished', () => {
  const redis = useRedis();
  const env = { CONVEYOR_WEBHOOK_POLL_MS: '20' };
  let namespace: string;
  let broker: Broker;
  let worker: JobConsumer;
  let transactions: JobHashTransactions;
  let receiver: WebhookReceiver;
  let api: TestApi | undefined;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    // Starting an API once creates the trigger's consumer group; events after its stop wait there, unread.
    const first = await startApi(redis(), env);
    namespace = first.broker.keys.namespace;
    await first.close();
    broker = await Broker.connect({ redis: redis().url, namespace });
    worker = await startWorker(broker, async (ctx) => {
      if ((ctx.job.payload as { fail?: boolean }).fail) throw new NonRetryableError('boom');
      return { ok: true };
    });
    transactions = new JobHashTransactions(broker);
  });

  afterAll(async () => {
    await api?.close();
    await worker?.stop(1000);
    await transactions?.close();
    await broker?.close();
    await receiver?.close();
  });

  /** True once the trigger's group has read and acknowledged every event in the stream. */
  const triggerCaughtUp = async (): Promise<true | undefined> => {
    const groups = (await broker.redis.xinfo('GROUPS', broker.keys.events())) as unknown[][];
    const group = groups.map((g) => Object.fromEntries(Array.from({ length: g.length / 2 }, (_, i) => [g[2 * i], g[2 * i + 1]]))).find((g) => g.name === WEBHOOK_GROUP);
    return group && group.lag === 0 && group.pending === 0 ? true : undefined;
  };

  it('is delivered once: scheduled by the front door, and skipped by the trigger that reads the event later', async () => {
    const { id } = await broker.submit({ service: 'echo', payload: { n: 1 } });
    const finished = await eventually('the job to complete', async () => {
      const found = await broker.get(id);
      return found?.job.status === 'completed' ? found.job : undefined;
    });

    expect(await attachRunPodWebhook(broker, transactions, new DeliveryQueue(broker), id, `${receiver.url}/late`)).toBe(true);
    api = await startApi(redis(), env, namespace);

    const post = await eventually('the webhook post', () => receiver.received.find((r) => r.path === '/late'));
    expect(post.body).toEqual(statusBody(finished));
    expect(post.headers['conveyor-delivery']).toBe(`${id}|completed|finished-${finished.finishedAt}`);
    await eventually('the trigger to read the finish event', triggerCaughtUp);
    // One more poll round for anything the trigger might have scheduled.
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.received.filter((r) => r.path === '/late')).toHaveLength(1);
    expect(await broker.redis.zcard(broker.keys.webhooks())).toBe(0);
  });

  it('a job retried after that is delivered again when it finishes again, now through the trigger', async () => {
    const { id } = await broker.submit({ service: 'echo', payload: { fail: true }, maxAttempts: 1 });
    await eventually('the job to fail', async () => ((await broker.get(id))?.job.status === 'failed' ? true : undefined));
    expect(await attachRunPodWebhook(broker, transactions, new DeliveryQueue(broker), id, `${receiver.url}/again`)).toBe(true);
    const first = await eventually('the first post', () => receiver.received.find((r) => r.path === '/again'));
    expect(first.body).toMatchObject({ id, status: 'FAILED', error: 'boom' });

    await broker.retry(id);
    const posts = await eventually('the second post', () => {
      const list = receiver.received.filter((r) => r.path === '/again');
      return list.length === 2 ? list : undefined;
    });
    // The trigger's delivery is named after the finish event's id in the event stream.
    expect(posts[1]?.headers['conveyor-delivery']).toMatch(new RegExp(`^${id}\\|failed\\|\\d+-\\d+$`));
    await eventually('the trigger to read every event', triggerCaughtUp);
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.received.filter((r) => r.path === '/again')).toHaveLength(2);
  });
});

import { Webhook, type Broker, type Job } from '@conveyor/core';
import { z } from 'zod';
import { deliveryKey, type Delivery, type DeliveryQueue } from '../../webhooks/delivery-queue.ts';
import type { JobHashTransactions } from './job-hash-transactions.ts';

/**
 * Field of the job's own hash holding the webhook a RunPod request named. Core's jobs carry only
 * Conveyor's signed webhook, whose body differs; this one is posted RunPod's `/status` body. It
 * expires with the job, and core's job decoder ignores fields it does not know.
 */
const FIELD = 'runpodWebhook';

/** A RunPod `webhook`: an http(s) URL, as Conveyor requires of every webhook. */
export const RunPodWebhookUrl = Webhook.shape.url;

const RunPodWebhook = z.object({
  url: z.string(),
  /**
   * `finishedAt` of a finish that came before the webhook was attached: the front door scheduled
   * its delivery itself, so the trigger must not schedule it again.
   */
  covered: z.number().optional(),
});
export type RunPodWebhook = z.infer<typeof RunPodWebhook>;

const FINISHED: ReadonlySet<string> = new Set<Delivery['event']>(['completed', 'failed', 'cancelled']);

/** The RunPod webhook attached to a job, or null. */
export async function runpodWebhookOf(broker: Broker, jobId: string): Promise<RunPodWebhook | null> {
  const raw = await broker.redis.hget(broker.keys.job(jobId), FIELD);
  if (raw === null) return null;
  try {
    const parsed = RunPodWebhook.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Whether the job's current finish still needs its RunPod webhook scheduled by the trigger. */
export async function runpodWebhookDue(broker: Broker, job: Job): Promise<boolean> {
  const webhook = await runpodWebhookOf(broker, job.id);
  return webhook !== null && webhook.covered !== job.finishedAt;
}

/**
 * Attaches a RunPod webhook to a job just submitted. The job may be running or even finished by
 * now, so its state is read and the webhook written in one transaction. Attached before the
 * finish, the trigger schedules the delivery when the finish's event arrives. Attached after it,
 * the trigger may already have passed that event by, so the same transaction schedules the
 * delivery and marks the finish covered, which keeps a trigger that reads the event later from
 * scheduling it twice. False when the job is gone or its hash kept changing.
 */
export async function attachRunPodWebhook(
  broker: Broker,
  transactions: JobHashTransactions,
  queue: DeliveryQueue,
  jobId: string,
  url: string,
): Promise<boolean> {
  const attached = await transactions.run(jobId, async (conn, key) => {
    const [status, finishedAt] = await conn.hmget(key, 'status', 'finishedAt');
    if (!status) return { result: false };
    const finished = FINISHED.has(status) && finishedAt ? Number(finishedAt) : undefined;
    const webhook: RunPodWebhook = finished === undefined ? { url } : { url, covered: finished };
    return {
      result: true,
      write: (multi) => {
        multi.hset(key, FIELD, JSON.stringify(webhook));
        if (finished !== undefined) queue.scheduleIn(multi, deliveryKey(jobId, status as Delivery['event'], `finished-${finished}`), Date.now());
      },
    };
  });
  return attached === true;
}

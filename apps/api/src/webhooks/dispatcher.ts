import type { Broker, Job, Webhook } from '@conveyor/core';
import type { FastifyBaseLogger } from 'fastify';
import { publicJob } from '../jobs/public-job.ts';
import { statusBody } from '../routes/runpod/status.ts';
import { parseDelivery, type Delivery, type DeliveryQueue } from './delivery-queue.ts';
import { WebhookDestinationRefused, type WebhookDestinations } from './destination.ts';
import { postJson } from './post-json.ts';
import { SIGNATURE_HEADER, sign } from './signature.ts';

export interface DispatcherOptions {
  /** Signs jobs whose webhook has no secret of its own. */
  readonly secret: string | undefined;
  readonly maxAttempts: number;
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  readonly timeoutMs: number;
  readonly pollMs: number;
  readonly destinations: WebhookDestinations;
}

/** Deliveries attempted at once by one instance. */
const PARALLEL = 16;

/** `final`: asking again cannot succeed (the destination is refused), so the delivery gives up now. */
type Outcome = { ok: true; status: number } | { ok: false; status?: number; reason: string; final?: boolean };

/**
 * Posts due deliveries: each attempt is claimed, signed with HMAC-SHA256, recorded on the job's
 * timeline, and either finished or rescheduled with exponential backoff until `maxAttempts`.
 */
export class WebhookDispatcher {
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private polling = false;

  constructor(
    private readonly broker: Broker,
    private readonly queue: DeliveryQueue,
    private readonly options: DispatcherOptions,
    private readonly log: FastifyBaseLogger,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.poll(), this.options.pollMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    if (this.polling || !this.timer) return;
    this.polling = true;
    try {
      const free = PARALLEL - this.inFlight.size;
      if (free <= 0) return;
      const now = Date.now();
      for (const key of await this.queue.due(now, free)) {
        const delivery = parseDelivery(key);
        if (!delivery) {
          await this.queue.finish(key);
          continue;
        }
        // Held past the request timeout, so only a crashed holder's claim ever lapses mid-attempt.
        if (!(await this.queue.claim(key, this.options.timeoutMs + 30_000, now))) continue;
        const task = this.attempt(delivery)
          .catch((err: unknown) => this.log.error({ err, delivery: key }, 'webhook attempt failed unexpectedly'))
          .finally(() => this.inFlight.delete(task));
        this.inFlight.add(task);
      }
    } catch (err) {
      this.log.warn({ err }, 'webhook poll failed');
    } finally {
      this.polling = false;
    }
  }

  private async attempt(delivery: Delivery): Promise<void> {
    const found = await this.broker.get(delivery.jobId);
    if (!found?.job.webhook) {
      await this.queue.finish(delivery.key);
      return;
    }
    const job = found.job;
    const attempt = await this.queue.beginAttempt(delivery.key);
    const outcome = await this.post(job, job.webhook as Webhook, delivery, attempt);
    const entry = { webhookAttempt: attempt, httpStatus: outcome.status };
    if (outcome.ok) {
      await this.broker.note(job.id, 'webhook', { ...entry, delivery: 'delivered' });
      await this.queue.finish(delivery.key);
    } else if (attempt >= this.options.maxAttempts || outcome.final) {
      await this.broker.note(job.id, 'webhook', { ...entry, delivery: 'gave-up', reason: outcome.reason });
      await this.queue.finish(delivery.key);
      this.log.warn({ jobId: job.id, attempt, reason: outcome.reason }, 'webhook delivery gave up');
    } else {
      const dueAt = Date.now() + Math.min(this.options.maxBackoffMs, this.options.backoffMs * 2 ** (attempt - 1));
      await this.broker.note(job.id, 'webhook', { ...entry, delivery: 'retrying', reason: outcome.reason, dueAt });
      await this.queue.retryAt(delivery.key, dueAt);
    }
  }

  /**
   * Conveyor's format is the signed envelope with the job; `runpod` is RunPod's `/status` body, as
   * RunPod posts it, signed too when there is a secret.
   */
  private async post(job: Job, webhook: Webhook, delivery: Delivery, attempt: number): Promise<Outcome> {
    const secret = webhook.secret ?? this.options.secret;
    if (!webhook.format && !secret) return { ok: false, reason: 'no signing secret: the job has none and CONVEYOR_WEBHOOK_SECRET is unset' };
    const refusal = this.options.destinations.refusal(webhook.url);
    if (refusal) return { ok: false, reason: `destination refused: ${refusal}`, final: true };
    const body = JSON.stringify(
      webhook.format === 'runpod' ? statusBody(job) : { delivery: delivery.key, event: `job.${delivery.event}`, attempt, sentAt: Date.now(), job: publicJob(job) },
    );
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    try {
      const status = await postJson(webhook.url, body, {
        headers: {
          'content-type': 'application/json',
          'user-agent': 'conveyor-webhooks/1',
          ...(secret ? { [SIGNATURE_HEADER]: sign(secret, body) } : {}),
          'conveyor-delivery': delivery.key,
          'conveyor-event': `job.${delivery.event}`,
        },
        lookup: this.options.destinations.lookup,
        signal,
      });
      return status >= 200 && status < 300 ? { ok: true, status } : { ok: false, status, reason: `receiver answered HTTP ${status}` };
    } catch (err) {
      if (err instanceof WebhookDestinationRefused) return { ok: false, reason: `destination refused: ${err.message}`, final: true };
      const reason = signal.aborted ? `no answer within ${this.options.timeoutMs} ms` : `request failed: ${(err as Error).message}`;
      return { ok: false, reason };
    }
  }

  /** Stops polling and lets attempts under way finish (each is bounded by the request timeout). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all([...this.inFlight]);
  }
}

import type { Job } from '@conveyor/core';

/** A job as clients and webhook receivers see it: the webhook's signing secret never leaves the server. */
export type PublicJob = Omit<Job, 'webhook'> & { webhook?: { url: string; signed: true } };

export function publicJob(job: Job): PublicJob {
  const { webhook, ...rest } = job;
  return webhook ? { ...rest, webhook: { url: webhook.url, signed: true } } : rest;
}

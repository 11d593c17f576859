import type { Job } from '@conveyor/core';

/** A job as clients and webhook receivers see it: the webhook's signing secret never leaves the server. */
export type PublicJob = Omit<Job, 'webhook'> & { webhook?: { url: string; signed: true } | { url: string; format: 'runpod' } };

export function publicJob(job: Job): PublicJob {
  const { webhook, ...rest } = job;
  if (!webhook) return rest;
  return { ...rest, webhook: webhook.format ? { url: webhook.url, format: webhook.format } : { url: webhook.url, signed: true } };
}

import type { Broker } from '@conveyor/core';
import type { FastifyBaseLogger } from 'fastify';
import { ApiKeyStore } from './auth/api-keys.ts';
import { Authenticator } from './auth/authenticator.ts';
import { webhooksMayReachPrivate, type Env } from './env.ts';
import { JobLister } from './jobs/list.ts';
import { LiveWorkerCheck } from './jobs/live-workers.ts';
import type { SubmitDeps } from './jobs/submit.ts';
import { TenantLimits } from './limits/tenant-limits.ts';
import { Metrics } from './metrics.ts';
import { FleetStream } from './streams/fleet-stream.ts';
import { JobWatch } from './streams/job-watch.ts';
import { LiveConnections } from './streams/live-connections.ts';
import { WebhookDispatcher } from './webhooks/dispatcher.ts';
import { DeliveryQueue } from './webhooks/delivery-queue.ts';
import { WebhookDestinations } from './webhooks/destination.ts';
import { WebhookTrigger } from './webhooks/trigger.ts';
import { MonitorHub } from './ws/monitor-hub.ts';

/** The long-lived parts one API process shares across all requests and connections. */
export interface Runtime {
  readonly env: Env;
  readonly broker: Broker;
  readonly auth: Authenticator;
  readonly apiKeys: ApiKeyStore;
  readonly limits: TenantLimits;
  readonly lister: JobLister;
  readonly watch: JobWatch;
  readonly live: LiveConnections;
  readonly monitors: MonitorHub;
  readonly metrics: Metrics;
  readonly submit: SubmitDeps;
  /** Starts subscriptions and background loops; call before accepting connections. */
  start(): Promise<void>;
  /** Stops background work; the broker stays open (its owner closes it). */
  stop(): Promise<void>;
}

export function createRuntime(env: Env, broker: Broker, log: FastifyBaseLogger): Runtime {
  const apiKeys = new ApiKeyStore(broker.redis, broker.keys);
  const limits = new TenantLimits(
    broker,
    { maxPending: env.CONVEYOR_TENANT_MAX_PENDING, submitsPerSec: env.CONVEYOR_TENANT_SUBMITS_PER_SEC, maxPriority: env.CONVEYOR_MAX_PRIORITY },
    env.CONVEYOR_LIMITS_CACHE_MS,
  );
  const lister = new JobLister(broker, env.CONVEYOR_LIST_SCAN_LIMIT);
  const watch = new JobWatch(broker);
  const fleetStream = new FleetStream(broker);
  const monitors = new MonitorHub(
    broker,
    fleetStream,
    lister,
    { batchMs: env.CONVEYOR_MONITOR_BATCH_MS, queuesMs: env.CONVEYOR_MONITOR_QUEUES_MS, recentJobs: env.CONVEYOR_MONITOR_RECENT_JOBS },
    log,
  );
  const metrics = new Metrics(broker);
  const queue = new DeliveryQueue(broker);
  const destinations = new WebhookDestinations(webhooksMayReachPrivate(env));
  const trigger = new WebhookTrigger(broker, queue, log);
  const dispatcher = new WebhookDispatcher(
    broker,
    queue,
    {
      secret: env.CONVEYOR_WEBHOOK_SECRET,
      maxAttempts: env.CONVEYOR_WEBHOOK_MAX_ATTEMPTS,
      backoffMs: env.CONVEYOR_WEBHOOK_BACKOFF_MS,
      maxBackoffMs: env.CONVEYOR_WEBHOOK_MAX_BACKOFF_MS,
      timeoutMs: env.CONVEYOR_WEBHOOK_TIMEOUT_MS,
      pollMs: env.CONVEYOR_WEBHOOK_POLL_MS,
      destinations,
    },
    log,
  );
  return {
    env,
    broker,
    apiKeys,
    auth: new Authenticator({ mode: env.CONVEYOR_MODE, localTenant: env.CONVEYOR_LOCAL_TENANT, cacheMs: env.CONVEYOR_AUTH_CACHE_MS }, apiKeys),
    limits,
    lister,
    watch,
    live: new LiveConnections(),
    monitors,
    metrics,
    submit: {
      broker,
      limits,
      webhookSecret: env.CONVEYOR_WEBHOOK_SECRET,
      webhookDestinations: destinations,
      maxBatchJobs: env.CONVEYOR_BATCH_MAX_JOBS,
      liveWorkers: new LiveWorkerCheck(broker),
    },
    async start() {
      watch.start(env.CONVEYOR_HEARTBEAT_MS);
      monitors.start();
      metrics.start();
      await trigger.start();
      dispatcher.start();
    },
    async stop() {
      watch.stop();
      monitors.stop();
      metrics.stop();
      await Promise.all([trigger.stop(), dispatcher.stop(), fleetStream.close()]);
    },
  };
}

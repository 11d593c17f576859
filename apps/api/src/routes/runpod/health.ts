import type { Runtime } from '../../runtime.ts';
import { EndpointJobs } from './endpoint-jobs.ts';

/**
 * The `/health` body: RunPod's `jobs` counters for this tenant's jobs of the endpoint's service,
 * and `workers` from the fleet registry (the worker processes serving that service). Pending jobs
 * are counted exactly; delayed ones among the `scanLimit` due first, and finished ones among the
 * newest `scanLimit` of each final status: a poll reads no more jobs than those, however many wait.
 */
export async function endpointHealth(rt: Runtime, service: string, tenant: string): Promise<Record<string, Record<string, number>>> {
  const jobs = new EndpointJobs(rt.broker, service, tenant);
  const scanLimit = rt.env.CONVEYOR_LIST_SCAN_LIMIT;
  const [queued, active, completed, failed, fleet] = await Promise.all([
    jobs.queuedCount(scanLimit),
    jobs.active(),
    jobs.recent('completed', scanLimit),
    jobs.recent('failed', scanLimit),
    rt.broker.fleet.workers(),
  ]);
  // A job that ran more than once was retried; a delayed job that already ran waits for its retry.
  const retried = [...active, ...completed, ...failed].filter((j) => j.attempts > 1).length + queued.delayed.filter((j) => j.attempts >= 1).length;
  const workers = fleet.filter((w) => w.services.includes(service));
  const count = (status: string) => workers.filter((w) => w.status === status).length;
  return {
    jobs: {
      completed: completed.length,
      failed: failed.length,
      inProgress: active.length,
      inQueue: queued.pending + queued.delayed.length,
      retried,
    },
    workers: {
      idle: count('idle'),
      initializing: count('starting'),
      ready: count('idle') + count('busy'),
      running: count('busy'),
      throttled: count('draining'),
      unhealthy: count('offline'),
    },
  };
}

import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { Broker, JobConsumer, type JobEvent } from '../../src/index.ts';

export interface FailoverOutcome {
  readonly acknowledged: number;
  /** Kill of the primary → the first job a worker claimed afterwards. */
  readonly failoverToFirstClaimMs: number;
  /** Handler runs beyond one per job: re-runs of work whose completion died with the primary. */
  readonly reruns: number;
}

/**
 * Submits jobs through `url` in `replicated` durability while two workers run them, kills the
 * primary of the namespace mid-run (`kill`, which resolves with when the primary died), and checks that the submitter and workers carried on by themselves:
 * every acknowledged job exists after the failover and completes, and no idempotency key made two
 * jobs. A submit that fails during the failover is retried with the same idempotency key, as a
 * client would.
 */
export async function runThroughFailover(url: string, kill: (namespace: string) => Promise<number>, jobs = 60): Promise<FailoverOutcome> {
  const namespace = `ha${randomUUID().slice(0, 6)}`;
  const options = { redis: url, namespace, leaseMs: 3000, reapIntervalMs: 200, replicaTimeoutMs: 1000 };
  const submitter = await Broker.connect({ ...options, durability: 'replicated' });
  const workerBrokers = await Promise.all([Broker.connect(options), Broker.connect(options)]);
  const runs = new Map<string, number>();
  const consumers = workerBrokers.map(
    (broker, i) =>
      new JobConsumer({
        broker,
        capabilities: { workerId: `ha-w${i}`, machineId: 'm1', services: ['sim'], concurrency: 2 },
        heartbeatIntervalMs: 500,
        handler: async (ctx) => {
          runs.set(ctx.job.id, (runs.get(ctx.job.id) ?? 0) + 1);
          await sleep(20);
          return { done: ctx.job.payload };
        },
      }),
  );
  // Redis times of claims, from the event stream (a claim lost with the old primary is not in it).
  const claims: number[] = [];
  const unsubscribe = submitter.subscribe((e: JobEvent) => {
    if (e.type === 'active') claims.push(e.ts);
  });
  try {
    await Promise.all(consumers.map((c) => c.start()));
    const acknowledged = new Map<string, string>();
    let killed: Promise<number> | undefined;
    for (let i = 0; i < jobs; i++) {
      if (i === Math.floor(jobs / 3)) killed = kill(namespace);
      const key = `job-${i}`;
      for (const giveUp = Date.now() + 30_000; ; ) {
        try {
          const { id } = await submitter.submit({ service: 'sim', payload: i, idempotencyKey: key, maxStalls: 20 });
          const before = acknowledged.get(key);
          if (before) expect(id).toBe(before);
          acknowledged.set(key, id);
          break;
        } catch (err) {
          if (Date.now() > giveUp) throw err;
          await sleep(100);
        }
      }
      await sleep(15);
    }
    const ids = [...acknowledged.values()];
    expect(new Set(ids).size).toBe(jobs);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const statuses = await Promise.all(ids.map(async (id) => (await submitter.get(id).catch(() => null))?.job.status));
      const missing = statuses.filter((s) => s === undefined).length;
      expect(missing, 'acknowledged jobs lost').toBe(0);
      if (statuses.every((s) => s === 'completed')) break;
      if (Date.now() > deadline) throw new Error(`not all jobs completed: ${JSON.stringify(statuses)}`);
      await sleep(200);
    }
    const killedAt = await (killed as Promise<number>);
    const firstClaim = Math.min(...claims.filter((t) => t > killedAt));
    let reruns = 0;
    for (const n of runs.values()) reruns += n - 1;
    return { acknowledged: ids.length, failoverToFirstClaimMs: firstClaim - killedAt, reruns };
  } finally {
    unsubscribe();
    await Promise.all(consumers.map((c) => c.stop(2000).catch(() => undefined)));
    await Promise.all([submitter, ...workerBrokers].map((b) => b.close().catch(() => undefined)));
  }
}

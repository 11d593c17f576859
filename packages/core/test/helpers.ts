import { randomUUID } from 'node:crypto';
import { startRedisServer, type RedisServer } from '@conveyor/testing';
import { afterAll, beforeAll } from 'vitest';
import { Broker, type BrokerOptions, type ClaimedJob, type RedisClient, type WorkerSignal } from '../src/index.ts';

/** One real redis-server per test file; each broker gets its own namespace so tests never share keys. */
export function useRedis(): { server: () => RedisServer; broker: (options?: Partial<BrokerOptions>) => Promise<Broker> } {
  let server: RedisServer | undefined;
  const brokers: Broker[] = [];
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await Promise.all(brokers.map((b) => b.close()));
    await server?.stop();
  });
  return {
    server: () => {
      if (!server) throw new Error('redis-server not started yet');
      return server;
    },
    broker: async (options = {}) => {
      if (!server) throw new Error('redis-server not started yet');
      const broker = await Broker.connect({ redis: server.url, namespace: `t${randomUUID().slice(0, 8)}`, ...options });
      brokers.push(broker);
      return broker;
    },
  };
}

export function worker(workerId: string, extra: Record<string, unknown> = {}) {
  return { workerId, machineId: 'm1', services: ['sim'], ...extra };
}

/**
 * Redis commands run (inner commands of functions included) by `action`, per command name: counts,
 * not times, so "cost independent of N" is asserted exactly rather than against a noisy clock.
 */
export async function commandCountsOf(client: RedisClient, action: () => Promise<unknown>): Promise<Map<string, number>> {
  await client.config('RESETSTAT');
  await action();
  const stats = await client.info('commandstats');
  const counts = new Map<string, number>();
  for (const [, name, n] of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (name && name !== 'config|resetstat' && name !== 'info') counts.set(name, Number(n));
  }
  return counts;
}

/** All the Redis commands run by `action` (commandCountsOf, summed). */
export async function commandsRunBy(client: RedisClient, action: () => Promise<unknown>): Promise<number> {
  let calls = 0;
  for (const n of (await commandCountsOf(client, action)).values()) calls += n;
  return calls;
}

/** A wake-up on a worker's channel: a plain one, or a job pushed with it (push at wake). */
export function isWakeUp(signal: WorkerSignal): boolean {
  return signal.type === 'wake' || signal.type === 'job';
}

/**
 * Listens on the channels of workers `ids` (so a submit that wakes one of them pushes it a job):
 * `woken` lists each wake-up's worker in order, `pushed` the jobs pushed to each worker.
 */
export async function listenAs(broker: Broker, ids: readonly string[]) {
  const woken: string[] = [];
  const pushed = new Map<string, ClaimedJob[]>();
  const stops = await Promise.all(
    ids.map((id) =>
      broker.onWorkerSignal(id, (signal) => {
        if (!isWakeUp(signal)) return;
        woken.push(id);
        if (signal.type !== 'job') return;
        const leased = broker.leasedJob(signal.record);
        if (leased.ok) pushed.set(id, [...(pushed.get(id) ?? []), leased.claimed]);
      }),
    ),
  );
  return { woken, pushed, stop: async () => void (await Promise.all(stops.map((stop) => stop()))) };
}

/**
 * Redis memory per job, Conveyor beside BullMQ, each on its own private redis-server:
 * `used_memory` before and after N no-op submits (pending) and after running them all (finished and
 * retained), plus `MEMORY USAGE` of every key grouped by kind, so the bytes can be attributed.
 *
 *   pnpm --filter @conveyor/bench memory        # MEMORY_JOBS=20000 by default
 */
import { Broker, type JobSubmission } from '@conveyor/core';
import { startRedisServer } from '@conveyor/testing';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { usedMemory } from '../lib/server-time.ts';
import { inBatches, waitUntil } from '../lib/wait.ts';

const JOBS = Number(process.env.MEMORY_JOBS ?? 20_000);
const NAMESPACE = 'mem';
const SERVICE = 'comfyui';
const payload = (i: number): unknown => ({ i });

interface Kind {
  keys: number;
  bytes: number;
  /** Members of a collection key (zset cardinality, list or stream length, hash fields). */
  members: number;
}


/** `cv:{mem}:job:123-4` → `job:*`; `bull:q:123` → `<job>`; other keys keep their name. */
function kindOf(key: string): string {
  const conveyor = /^cv:\{[^}]*\}:([a-z]+)(:.*)?$/.exec(key);
  if (conveyor) return conveyor[2] ? `${conveyor[1]}:*` : (conveyor[1] as string);
  const bull = /^bull:[^:]+:(.*)$/.exec(key);
  if (bull) return /^\d+$/.test(bull[1] as string) ? 'job hash' : (bull[1] as string);
  return key;
}

async function membersOf(admin: Redis, key: string, type: string): Promise<number> {
  if (type === 'zset') return await admin.zcard(key);
  if (type === 'list') return await admin.llen(key);
  if (type === 'stream') return await admin.xlen(key);
  if (type === 'hash') return await admin.hlen(key);
  if (type === 'set') return await admin.scard(key);
  return 1;
}

async function breakdown(admin: Redis): Promise<Map<string, Kind & { type: string; encoding: string }>> {
  const kinds = new Map<string, Kind & { type: string; encoding: string }>();
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'COUNT', 1000);
    cursor = next;
    await Promise.all(
      keys.map(async (key) => {
        const type = await admin.type(key);
        const [bytes, encoding, members] = await Promise.all([
          admin.call('MEMORY', 'USAGE', key, 'SAMPLES', 0) as Promise<number>,
          admin.object('ENCODING', key) as Promise<string>,
          membersOf(admin, key, type),
        ]);
        const kind = kindOf(key);
        const k = kinds.get(kind) ?? { keys: 0, bytes: 0, members: 0, type, encoding };
        k.keys++;
        k.bytes += bytes;
        k.members += members;
        if (!k.encoding.includes(encoding)) k.encoding += `/${encoding}`;
        kinds.set(kind, k);
      }),
    );
  } while (cursor !== '0');
  return kinds;
}

function print(title: string, delta: number, kinds: Map<string, Kind & { type: string; encoding: string }>): void {
  const counted = [...kinds.values()].reduce((s, k) => s + k.bytes, 0);
  console.info(`\n${title}: used_memory +${delta} B = ${(delta / JOBS).toFixed(1)} B/job (MEMORY USAGE of all keys ${(counted / JOBS).toFixed(1)} B/job)`);
  const rows = [...kinds.entries()].sort((a, b) => b[1].bytes - a[1].bytes);
  for (const [kind, k] of rows) {
    const perKey = (k.bytes / k.keys).toFixed(0);
    console.info(
      `  ${kind.padEnd(20)} ${k.type.padEnd(6)} ${k.encoding.padEnd(20)} keys ${String(k.keys).padStart(6)}  members ${String(k.members).padStart(7)}  ` +
        `${String(k.bytes).padStart(9)} B  ${(k.bytes / JOBS).toFixed(1).padStart(7)} B/job  ${perKey.padStart(6)} B/key`,
    );
  }
}

async function conveyor(): Promise<{ pending: number; finished: number }> {
  const server = await startRedisServer();
  const admin = new Redis(server.url);
  const broker = await Broker.connect({ redis: server.url, namespace: NAMESPACE });
  try {
    const job = (i: number): JobSubmission => ({ service: SERVICE, payload: payload(i) });
    await broker.submit(job(-1)); // registers the signature, so the baseline holds the per-queue keys
    const first = await broker.claim(broker.identify({ workerId: 'w', machineId: 'm', services: [SERVICE], concurrency: 1 }), 1);
    for (const c of first) await broker.complete(c.lease, null);
    await admin.call('MEMORY', 'PURGE');
    const base = await usedMemory(admin);
    await inBatches(JOBS, 500, (i) => broker.submit(job(i)));
    await admin.call('MEMORY', 'PURGE');
    const pending = (await usedMemory(admin)) - base;
    print('conveyor pending', pending, await breakdown(admin));

    const identity = broker.identify({ workerId: 'w', machineId: 'm', services: [SERVICE], concurrency: 500 });
    for (;;) {
      const claimed = await broker.claim(identity, 500);
      if (claimed.length === 0) break;
      await Promise.all(claimed.map((c) => broker.complete(c.lease, null)));
    }
    await admin.call('MEMORY', 'PURGE');
    const finished = (await usedMemory(admin)) - base;
    print('conveyor completed (retained)', finished, await breakdown(admin));
    return { pending: pending / JOBS, finished: finished / JOBS };
  } finally {
    await broker.close();
    admin.disconnect();
    await server.stop();
  }
}

async function bullmq(): Promise<{ pending: number; finished: number }> {
  const server = await startRedisServer();
  const admin = new Redis(server.url);
  const { hostname, port } = new URL(server.url);
  const connection = { host: hostname, port: Number(port), maxRetriesPerRequest: null };
  const queue = new Queue('q', { connection });
  try {
    await queue.add('noop', payload(-1));
    const warm = new Worker('q', async () => undefined, { connection, autorun: false });
    void warm.run();
    await waitUntil('bullmq warm-up', async () => (await queue.getCompletedCount()) >= 1);
    await warm.close();
    await admin.call('MEMORY', 'PURGE');
    const base = await usedMemory(admin);
    for (let i = 0; i < JOBS; i += 500) {
      await queue.addBulk(Array.from({ length: Math.min(500, JOBS - i) }, (_, k) => ({ name: 'noop', data: payload(i + k) })));
    }
    await admin.call('MEMORY', 'PURGE');
    const pending = (await usedMemory(admin)) - base;
    print('bullmq waiting', pending, await breakdown(admin));

    const worker = new Worker('q', async () => undefined, { connection, concurrency: 100, autorun: false });
    void worker.run();
    await waitUntil('bullmq drain', async () => (await queue.getCompletedCount()) >= JOBS + 1, { pollMs: 50 });
    await worker.close();
    await admin.call('MEMORY', 'PURGE');
    const finished = (await usedMemory(admin)) - base;
    print('bullmq completed (retained)', finished, await breakdown(admin));
    return { pending: pending / JOBS, finished: finished / JOBS };
  } finally {
    await queue.close();
    admin.disconnect();
    await server.stop();
  }
}

const c = await conveyor();
const b = await bullmq();
console.info(
  JSON.stringify({
    jobs: JOBS,
    conveyor: { pendingBytesPerJob: Math.round(c.pending), finishedBytesPerJob: Math.round(c.finished) },
    bullmq: { pendingBytesPerJob: Math.round(b.pending), finishedBytesPerJob: Math.round(b.finished) },
  }),
);

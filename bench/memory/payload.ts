/**
 * How the payload size moves a pending job's hash across `hash-max-listpack-value` (64 bytes):
 * MEMORY USAGE of the job hash, Conveyor beside BullMQ, for payloads of growing JSON size.
 *
 *   pnpm --filter @conveyor/bench exec tsx memory/payload.ts
 */
import { Broker } from '@conveyor/core';
import { startRedisServer } from '@conveyor/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

const SIZES = [8, 40, 60, 64, 66, 100, 500, 2000];
const JOBS = 200;
const payloadOf = (bytes: number, i: number): unknown => ({ i, s: 'x'.repeat(Math.max(0, bytes - 16 - String(i).length)) });

async function average(admin: Redis, keys: string[]): Promise<{ bytes: number; encoding: string }> {
  let bytes = 0;
  const encodings = new Set<string>();
  for (const key of keys) {
    bytes += Number(await admin.call('MEMORY', 'USAGE', key, 'SAMPLES', 0));
    encodings.add(String(await admin.object('ENCODING', key)));
  }
  return { bytes: Math.round(bytes / keys.length), encoding: [...encodings].join('/') };
}

const server = await startRedisServer();
const admin = new Redis(server.url);
const broker = await Broker.connect({ redis: server.url, namespace: 'pl' });
const { hostname, port } = new URL(server.url);
const queue = new Queue('pl', { connection: { host: hostname, port: Number(port), maxRetriesPerRequest: null } });
try {
  console.info('payload JSON bytes | conveyor job hash | bullmq job hash');
  for (const size of SIZES) {
    const ids = await Promise.all(Array.from({ length: JOBS }, (_, i) => broker.submit({ service: 'comfyui', payload: payloadOf(size, i) }).then((r) => r.id)));
    const bull = await queue.addBulk(Array.from({ length: JOBS }, (_, i) => ({ name: 'noop', data: payloadOf(size, i) })));
    const json = JSON.stringify(payloadOf(size, 0)).length;
    const c = await average(admin, ids.map((id) => broker.keys.job(id)));
    const b = await average(admin, bull.map((j) => `bull:pl:${j.id ?? ''}`));
    console.info(`${String(json).padStart(5)} | ${String(c.bytes).padStart(5)} B ${c.encoding.padEnd(9)} | ${String(b.bytes).padStart(5)} B ${b.encoding}`);
  }
} finally {
  await queue.close();
  await broker.close();
  admin.disconnect();
  await server.stop();
}

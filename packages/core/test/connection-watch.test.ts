import { launchRedisServer } from '@conveyor/local-stack';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { Broker } from '../src/index.ts';

async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('broker connections', () => {
  it('log a Redis outage as one warn line when lost and one when every connection has recovered, never an unhandled error event', async () => {
    const first = await launchRedisServer();
    const broker = await Broker.connect({ redis: first.url });
    const lines: { fields: Record<string, unknown>; message: string }[] = [];
    broker.reportConnectionsTo({ warn: (fields, message) => lines.push({ fields, message }) });
    const unsubscribe = broker.subscribe(() => undefined);
    const consoleError = vi.spyOn(console, 'error');
    const restarted = { server: undefined as Awaited<ReturnType<typeof launchRedisServer>> | undefined };
    try {
      await sleep(300);
      await first.stop();
      await until('the loss to be reported', () => lines.length > 0);
      // Reconnect attempts of both connections keep failing while Redis is down; none of them adds a line.
      await sleep(1500);
      expect(lines.map((l) => l.message)).toEqual(['redis connection lost']);
      restarted.server = await launchRedisServer({ port: first.port });
      expect(restarted.server.port).toBe(first.port);
      await until('the recovery to be reported', () => lines.length > 1);
      await sleep(500);
      expect(lines.map((l) => l.message)).toEqual(['redis connection lost', 'redis connection recovered']);
      expect(lines[1]?.fields.downMs).toBeGreaterThan(1000);
      expect(consoleError.mock.calls.filter((c) => String(c[0]).includes('[ioredis] Unhandled error event'))).toEqual([]);
    } finally {
      consoleError.mockRestore();
      unsubscribe();
      await broker.close();
      await restarted.server?.stop();
    }
  });
});

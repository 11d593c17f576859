import { startSentinelSet, type SentinelSet } from '@conveyor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Broker, conveyorLibrary, loadedLibraryHash } from '../../src/index.ts';
import { runThroughFailover } from './failover-run.ts';

let set: SentinelSet;
beforeAll(async () => {
  set = await startSentinelSet();
}, 60_000);
afterAll(async () => {
  await set?.stop();
});

describe('through Sentinel (1 primary, 1 replica, 3 sentinels)', () => {
  it('connects by redis-sentinel:// and the replica holds the library the primary loaded', async () => {
    const broker = await Broker.connect({ redis: set.url, namespace: 'probe' });
    await broker.submit({ service: 'sim', payload: 1 });
    const primary = await set.primary();
    const client = set.nodes.find((n) => n !== primary)!.client();
    try {
      expect(await loadedLibraryHash(client)).toBe(conveyorLibrary().hash);
    } finally {
      client.disconnect();
      await broker.close();
    }
  });

  it('carries on through the primary being killed: no acknowledged job lost, workers and submitter reconnect by themselves', async () => {
    let failoverMs = 0;
    const outcome = await runThroughFailover(set.url, async () => {
      const { killed, killedAt, failoverMs: ms } = await set.killPrimary();
      failoverMs = ms;
      // Back as a supervisor would bring it: the sentinels make it the new primary's replica, so
      // `replicated` submits can be confirmed again.
      await killed.restart();
      return killedAt;
    });
    process.stdout.write(`sentinel: failover ${failoverMs} ms; kill → first claim ${outcome.failoverToFirstClaimMs} ms; ${outcome.reruns} re-runs of ${outcome.acknowledged} jobs\n`);
    expect(outcome.failoverToFirstClaimMs).toBeGreaterThan(0);
  }, 120_000);
});

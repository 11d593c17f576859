import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalArtifactStore, tenantArtifacts, type Connector, type ConnectorContext, type Progress } from '@conveyor/core';
import { pino } from 'pino';
import type { WorkerLogger } from '../../src/worker/job-handler.ts';

/** Logs go nowhere in tests unless LOG_LEVEL asks for them. */
export const testLogger: WorkerLogger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });

export async function tempArtifactStore(): Promise<{ store: LocalArtifactStore; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'conveyor-artifacts-'));
  return { store: new LocalArtifactStore(dir), remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Runs one attempt of a connector in-process, without a broker: for checks of what a connector
 * produces. Progress reports are collected in order.
 */
export async function runDirect(
  connector: Connector<unknown>,
  payload: unknown,
  options: { store: LocalArtifactStore; tenant?: string; jobId?: string; signal?: AbortSignal },
): Promise<{ result: unknown; progress: Progress[] }> {
  const progress: Progress[] = [];
  const ctx: ConnectorContext = {
    signal: options.signal ?? new AbortController().signal,
    logger: testLogger,
    artifacts: tenantArtifacts(options.store, options.tenant ?? 'default'),
    progress: async (p) => {
      progress.push(p);
    },
  };
  const job = {
    id: options.jobId ?? '1700000000000-0000000001',
    service: connector.name,
    tenant: options.tenant ?? 'default',
    payload: connector.validate(payload),
    attempt: 1,
    maxAttempts: 1,
  };
  return { result: await connector.run(job, ctx), progress };
}

/** Width and height from a PNG's IHDR chunk, after checking the signature. */
export function pngSize(data: Buffer): { width: number; height: number } {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (!data.subarray(0, 8).equals(signature)) throw new Error('not a PNG: wrong signature');
  if (data.subarray(12, 16).toString('latin1') !== 'IHDR') throw new Error('not a PNG: first chunk is not IHDR');
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
}

import type { Redis } from 'ioredis';

/** Redis's own time inside FCALL over some windows: what the server spent, whatever the client did. */
export interface ServerTime {
  readonly calls: number;
  readonly usec: number;
}

async function fcallStats(admin: Redis): Promise<ServerTime> {
  const info = await admin.info('commandstats');
  const match = /^cmdstat_fcall:calls=(\d+),usec=(\d+)/m.exec(info);
  return { calls: Number(match?.[1] ?? 0), usec: Number(match?.[2] ?? 0) };
}

/**
 * Sums the `INFO commandstats` FCALL deltas of the windows it measures. A window must run only the
 * calls being measured (nothing else may FCALL meanwhile); untimed set-up goes between windows.
 */
export class FcallMeter {
  private calls = 0;
  private usec = 0;

  constructor(private readonly admin: Redis) {}

  async measure<T>(work: () => Promise<T>): Promise<T> {
    const before = await fcallStats(this.admin);
    const result = await work();
    const after = await fcallStats(this.admin);
    this.calls += after.calls - before.calls;
    this.usec += after.usec - before.usec;
    return result;
  }

  /**
   * Server time per operation over every window so far, for `operations` API calls made in them
   * (one operation may take more than one FCALL); throws if no FCALL ran at all.
   */
  per(operations: number): { readonly us: number; readonly fcalls: number } {
    if (this.calls === 0) throw new Error('no FCALL ran in the measured windows');
    return { us: this.usec / operations, fcalls: this.calls / operations };
  }

  get total(): ServerTime {
    return { calls: this.calls, usec: this.usec };
  }
}

/** `used_memory` from `INFO memory`: bytes the allocator holds for data, buffers and overhead. */
export async function usedMemory(admin: Redis): Promise<number> {
  const match = /^used_memory:(\d+)/m.exec(await admin.info('memory'));
  if (!match) throw new Error('INFO memory has no used_memory field');
  return Number(match[1]);
}

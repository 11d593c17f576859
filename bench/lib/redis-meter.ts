import type { Redis } from 'ioredis';

/** Where a timed window spent its effort: what bounds throughput on a small machine. */
export interface Cost {
  /** CPU time of the single-threaded redis-server per job. */
  readonly redisCpuUs: number;
  /** Share of one core redis-server used over the window (1 = saturated). */
  readonly redisBusy: number;
  /** CPU time of this Node process (producer, worker and client library together) per job. */
  readonly nodeCpuUs: number;
  /** Cores this Node process used over the window (the main thread saturates near 1). */
  readonly nodeBusy: number;
  /** Script invocations (FCALL, EVALSHA, EVAL) per job: server-side round trips. */
  readonly scriptCalls: number;
}

interface Snapshot {
  readonly redisCpuS: number;
  readonly scriptCalls: number;
  readonly node: NodeJS.CpuUsage;
}

function field(info: string, name: string): number {
  const match = new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info);
  return match ? Number(match[1]) : 0;
}

function calls(info: string, command: string): number {
  const match = new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info);
  return match ? Number(match[1]) : 0;
}

async function snapshot(admin: Redis): Promise<Snapshot> {
  const [cpu, commands] = await Promise.all([admin.info('cpu'), admin.info('commandstats')]);
  return {
    redisCpuS: field(cpu, 'used_cpu_user') + field(cpu, 'used_cpu_sys'),
    scriptCalls: calls(commands, 'fcall') + calls(commands, 'evalsha') + calls(commands, 'eval'),
    node: process.cpuUsage(),
  };
}

/** Reads Redis's and this process's counters around a window of work. */
export async function startMeter(admin: Redis): Promise<{ stop(jobs: number, seconds: number): Promise<Cost> }> {
  const before = await snapshot(admin);
  return {
    async stop(jobs, seconds) {
      const node = process.cpuUsage(before.node);
      const after = await snapshot(admin);
      const redisCpuS = after.redisCpuS - before.redisCpuS;
      const nodeCpuS = (node.user + node.system) / 1e6;
      return {
        redisCpuUs: (redisCpuS * 1e6) / jobs,
        redisBusy: redisCpuS / seconds,
        nodeCpuUs: (nodeCpuS * 1e6) / jobs,
        nodeBusy: nodeCpuS / seconds,
        scriptCalls: (after.scriptCalls - before.scriptCalls) / jobs,
      };
    },
  };
}

import { formatTable, round, type Summary } from '../lib/stats.ts';
import type { Throughput, ThroughputCase } from './throughput.ts';

/** What the numbers were taken on: a shared 2-core machine's load moves them a lot. */
export interface BenchSetting {
  readonly redisVersion: string;
  readonly cpus: number;
  readonly signatures: number;
  readonly loadBefore: number;
  readonly loadAfter: number;
}

export interface BrokerBenchResults {
  readonly setting: BenchSetting;
  readonly rounds: number;
  readonly throughput: readonly { readonly case: ThroughputCase; readonly conveyor: Throughput; readonly bullmq: Throughput }[];
  readonly claim: { readonly shallowDepth: number; readonly deepDepth: number; readonly shallow: Summary; readonly deep: Summary };
  readonly idle: { readonly conveyor: Summary; readonly bullmq: Summary };
}

/** The summary line's fields; its names and meaning are what the issue specifies. */
export interface BrokerBenchSummary {
  readonly vs_bullmq_c1: number;
  readonly vs_bullmq_c50: number;
  readonly claim_depth_ratio: number;
  readonly idle_pickup_p50_ms: number;
  readonly idle_pickup_p99_ms: number;
}

const TARGETS = {
  vs_bullmq_c1: (v: number) => v >= 1,
  vs_bullmq_c50: (v: number) => v >= 2,
  claim_depth_ratio: (v: number) => v <= 1.5,
  idle_pickup_p50_ms: (v: number) => v <= 2,
} as const;

const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const ms = (n: number) => fmt(n, 3);
const pct = (n: number) => `${fmt(n * 100)}%`;

function ratioOf(results: BrokerBenchResults, concurrency: number): number {
  const row = results.throughput.find((r) => r.case.mode === 'prefilled' && r.case.concurrency === concurrency);
  if (!row) throw new Error(`no prefilled throughput case at concurrency ${concurrency}`);
  return row.conveyor.jobsPerSec / row.bullmq.jobsPerSec;
}

export function summaryOf(results: BrokerBenchResults): BrokerBenchSummary {
  return {
    vs_bullmq_c1: round(ratioOf(results, 1)),
    vs_bullmq_c50: round(ratioOf(results, 50)),
    claim_depth_ratio: round(results.claim.deep.p50 / results.claim.shallow.p50),
    idle_pickup_p50_ms: round(results.idle.conveyor.p50, 3),
    idle_pickup_p99_ms: round(results.idle.conveyor.p99, 3),
  };
}

function verdict(summary: BrokerBenchSummary): string {
  return Object.entries(TARGETS)
    .map(([key, met]) => `${key}=${summary[key as keyof typeof TARGETS]} ${met(summary[key as keyof typeof TARGETS]) ? 'met' : 'MISSED'}`)
    .join(', ');
}

export function renderReport(results: BrokerBenchResults, summary: BrokerBenchSummary): string {
  const { rounds } = results;
  const throughput = formatTable(
    `End-to-end throughput, no-op jobs: median of ${rounds} rounds (conveyor | bullmq; CPU and calls over the timed window)`,
    ['case', 'conveyor jobs/s', 'bullmq jobs/s', 'ratio', 'redis µs/job', 'redis busy', 'node µs/job', 'node busy', 'scripts/job'],
    results.throughput.map(({ case: c, conveyor: a, bullmq: b }) => [
      `${c.mode}, concurrency ${c.concurrency}, ${fmt(c.jobs)} jobs`,
      fmt(a.jobsPerSec),
      fmt(b.jobsPerSec),
      fmt(a.jobsPerSec / b.jobsPerSec, 2),
      `${fmt(a.cost.redisCpuUs)} | ${fmt(b.cost.redisCpuUs)}`,
      `${pct(a.cost.redisBusy)} | ${pct(b.cost.redisBusy)}`,
      `${fmt(a.cost.nodeCpuUs)} | ${fmt(b.cost.nodeCpuUs)}`,
      `${pct(a.cost.nodeBusy)} | ${pct(b.cost.nodeBusy)}`,
      `${fmt(a.cost.scriptCalls, 2)} | ${fmt(b.cost.scriptCalls, 2)}`,
    ]),
  );
  const { claim, idle } = results;
  const claimTable = formatTable(
    'Conveyor claim latency: one claim(identity, 1), ms',
    ['pending jobs', 'samples', 'p50', 'p99', 'mean'],
    [
      [fmt(claim.shallowDepth), fmt(claim.shallow.n), ms(claim.shallow.p50), ms(claim.shallow.p99), ms(claim.shallow.mean)],
      [fmt(claim.deepDepth), fmt(claim.deep.n), ms(claim.deep.p50), ms(claim.deep.p99), ms(claim.deep.mean)],
    ],
  );
  const idleTable = formatTable(
    'Idle pickup: submit -> handler start on a parked worker, ms',
    ['system', 'samples', 'p50', 'p99', 'mean'],
    [
      ['conveyor (JobConsumer, wake-up channel)', fmt(idle.conveyor.n), ms(idle.conveyor.p50), ms(idle.conveyor.p99), ms(idle.conveyor.mean)],
      ['bullmq (Worker, blocking wait)', fmt(idle.bullmq.n), ms(idle.bullmq.p50), ms(idle.bullmq.p99), ms(idle.bullmq.mean)],
    ],
  );
  const { setting } = results;
  const header =
    `Broker benchmark: private redis-server ${setting.redisVersion}, ${setting.cpus} CPUs, ` +
    `${setting.signatures} requirement signatures, load average ${setting.loadBefore.toFixed(2)} before / ${setting.loadAfter.toFixed(2)} after`;
  return [header, throughput, claimTable, idleTable, `Targets: ${verdict(summary)}`].join('\n\n');
}

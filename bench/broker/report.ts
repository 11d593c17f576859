import { fmt, ms, pct } from '../lib/format.ts';
import { ratioOf as outcomeRatio, type Outcome } from '../lib/outcome.ts';
import { formatTable, round, type Summary } from '../lib/stats.ts';
import {
  claimScaleTable,
  fairnessTable,
  memoryTable,
  submitScaleTable,
  type ClaimScaleResults,
  type FairnessResults,
  type MemoryResults,
  type SubmitScaleResults,
} from './report-fleet.ts';
import type { Throughput, ThroughputCase } from './throughput.ts';

/** What the numbers were taken on: a shared 2-core machine's load moves them a lot. */
export interface BenchSetting {
  readonly redisVersion: string;
  readonly cpus: number;
  readonly signatures: number;
  readonly loadBefore: number;
  readonly loadAfter: number;
}

export interface SystemsThroughput {
  readonly conveyor: Throughput;
  readonly bullmq: Throughput;
}

export interface BrokerBenchResults {
  readonly setting: BenchSetting;
  readonly rounds: number;
  readonly throughput: readonly ({ readonly case: ThroughputCase } & SystemsThroughput)[];
  /** Prefilled c50 drained by several worker processes, so one Node process is not the ceiling. */
  readonly multiProcess: { readonly case: ThroughputCase; readonly outcome: Outcome<SystemsThroughput> };
  readonly claim: { readonly shallowDepth: number; readonly deepDepth: number; readonly shallow: Summary; readonly deep: Summary };
  readonly idle: { readonly conveyor: Summary; readonly bullmq: Summary };
  readonly claimScale: ClaimScaleResults;
  readonly submitScale: SubmitScaleResults;
  readonly fairness: FairnessResults;
  readonly memory: MemoryResults;
}

/** The summary line's fields; its names and meaning are what the issue specifies. */
export interface BrokerBenchSummary {
  readonly vs_bullmq_c1: number;
  readonly vs_bullmq_c50: number;
  readonly claim_depth_ratio: number;
  readonly idle_pickup_p50_ms: number;
  readonly idle_pickup_p99_ms: number;
  /** Server µs per claim with many pending signatures ÷ with one; null if a case failed. */
  readonly claim_sig_ratio: number | null;
  /** Server µs per submit with one capability class per busy worker ÷ with 4 classes; null if a case failed. */
  readonly submit_class_ratio: number | null;
  /** Flood jobs started between tenant B's first submit and its first job's start; null if the case failed. */
  readonly fair_wait_claims: number | null;
  /** Conveyor's Redis µs per job ÷ BullMQ's at concurrency 50 (multi-process case; see redisUsSource). */
  readonly redis_us_ratio: number | null;
  /** Bytes per pending job ÷ BullMQ's; null if a case failed. */
  readonly mem_ratio: number | null;
}

type Target = (value: number, results: BrokerBenchResults) => boolean;

const TARGETS: { readonly [K in keyof BrokerBenchSummary]?: Target } = {
  vs_bullmq_c1: (v) => v >= 1,
  vs_bullmq_c50: (v) => v >= 2,
  claim_depth_ratio: (v) => v <= 1.5,
  idle_pickup_p50_ms: (v) => v <= 1,
  claim_sig_ratio: (v) => v <= 1.5,
  submit_class_ratio: (v) => v <= 1.5,
  fair_wait_claims: (v, r) => v <= 2 * r.fairness.slots,
  redis_us_ratio: (v) => v <= 0.5,
  mem_ratio: (v) => v <= 2,
};

function ratioOf(results: BrokerBenchResults, concurrency: number): number {
  const row = results.throughput.find((r) => r.case.mode === 'prefilled' && r.case.concurrency === concurrency);
  if (!row) throw new Error(`no prefilled throughput case at concurrency ${concurrency}`);
  return row.conveyor.jobsPerSec / row.bullmq.jobsPerSec;
}

/**
 * Where redis_us_ratio comes from: the multi-process c50 case when it ran, as there Node is not the
 * ceiling and Redis's cost per job is not shaped by one process's event loop; else the single-process one.
 */
export function redisUsSource(results: BrokerBenchResults): { readonly label: string; readonly row: SystemsThroughput | undefined } {
  const { multiProcess } = results;
  if (multiProcess.outcome.ok) return { label: `${multiProcess.case.processes}-process c50`, row: multiProcess.outcome.value };
  const single = results.throughput.find((r) => r.case.mode === 'prefilled' && r.case.concurrency === 50);
  return { label: 'single-process c50 (the multi-process case failed)', row: single };
}

const rounded = (value: number | null, decimals = 2) => (value === null ? null : round(value, decimals));

export function summaryOf(results: BrokerBenchResults): BrokerBenchSummary {
  const { claimScale, submitScale, fairness, memory } = results;
  const redisRow = redisUsSource(results).row;
  return {
    vs_bullmq_c1: round(ratioOf(results, 1)),
    vs_bullmq_c50: round(ratioOf(results, 50)),
    claim_depth_ratio: round(results.claim.deep.p50 / results.claim.shallow.p50),
    idle_pickup_p50_ms: round(results.idle.conveyor.p50, 3),
    idle_pickup_p99_ms: round(results.idle.conveyor.p99, 3),
    claim_sig_ratio: rounded(outcomeRatio(claimScale.many, claimScale.few, (v) => v.serverUs)),
    submit_class_ratio: rounded(outcomeRatio(submitScale.many, submitScale.few, (v) => v.serverUs)),
    fair_wait_claims: fairness.outcome.ok ? fairness.outcome.value.waitedClaims : null,
    redis_us_ratio: rounded(redisRow ? redisRow.conveyor.cost.redisCpuUs / redisRow.bullmq.cost.redisCpuUs : null),
    mem_ratio: rounded(outcomeRatio(memory.conveyorPending, memory.bullmqPending, (v) => v.bytesPerJob)),
  };
}

function verdict(summary: BrokerBenchSummary, results: BrokerBenchResults): string {
  return (Object.keys(TARGETS) as (keyof BrokerBenchSummary)[])
    .map((key) => {
      const value = summary[key];
      const met = value !== null && (TARGETS[key]?.(value, results) ?? true);
      return `${key}=${value} ${met ? 'met' : 'MISSED'}`;
    })
    .join(', ');
}

function caseLabel(c: ThroughputCase): string {
  const workers = c.processes > 1 ? `${c.processes} processes x concurrency ${c.concurrency / c.processes}` : `concurrency ${c.concurrency}`;
  return `${c.mode}, ${workers}, ${fmt(c.jobs)} jobs`;
}

function throughputTable(results: BrokerBenchResults, summary: BrokerBenchSummary): string {
  const { rounds, multiProcess } = results;
  const rows = [...results.throughput, ...(multiProcess.outcome.ok ? [{ case: multiProcess.case, ...multiProcess.outcome.value }] : [])];
  const table = formatTable(
    `End-to-end throughput, no-op jobs: median of ${rounds} rounds (conveyor | bullmq; CPU and calls over the timed window; ` +
      'node = the bench process plus any worker processes)',
    ['case', 'conveyor jobs/s', 'bullmq jobs/s', 'ratio', 'redis µs/job', 'redis busy', 'node µs/job', 'node busy', 'scripts/job'],
    rows.map(({ case: c, conveyor: a, bullmq: b }) => [
      caseLabel(c),
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
  const failed = multiProcess.outcome.ok ? [] : [`  ${caseLabel(multiProcess.case)}: ERROR ${multiProcess.outcome.error}`];
  const source = `redis_us_ratio = ${summary.redis_us_ratio} (conveyor ÷ bullmq redis µs/job) from the ${redisUsSource(results).label} case`;
  return [table, ...failed, source].join('\n');
}

export function renderReport(results: BrokerBenchResults, summary: BrokerBenchSummary): string {
  const throughput = throughputTable(results, summary);
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
  return [
    header,
    throughput,
    claimTable,
    idleTable,
    claimScaleTable(results.claimScale),
    submitScaleTable(results.submitScale),
    fairnessTable(results.fairness),
    memoryTable(results.memory),
    `Targets: ${verdict(summary, results)}`,
  ].join('\n\n');
}

import { fmt, ms } from '../lib/format.ts';
import type { Outcome } from '../lib/outcome.ts';
import { formatTable } from '../lib/stats.ts';
import type { FairWait } from './fairness.ts';
import type { MemoryFootprint } from './memory.ts';
import type { ClaimScale, SubmitScale } from './scale.ts';

/** Claim cost with one pending signature and with many (same total depth). */
export interface ClaimScaleResults {
  readonly signatures: { readonly few: number; readonly many: number };
  readonly pending: number;
  /** Timed claims on each side. */
  readonly claims: number;
  readonly few: Outcome<ClaimScale>;
  readonly many: Outcome<ClaimScale>;
}

/** Submit cost with the same busy fleet in a few capability classes and in one class per worker. */
export interface SubmitScaleResults {
  readonly workers: number;
  readonly classes: { readonly few: number; readonly many: number };
  /** Timed submits on each side. */
  readonly submits: number;
  readonly few: Outcome<SubmitScale>;
  readonly many: Outcome<SubmitScale>;
}

export interface FairnessResults {
  readonly slots: number;
  readonly flood: number;
  readonly late: number;
  readonly outcome: Outcome<FairWait>;
}

export interface MemoryResults {
  readonly jobs: number;
  readonly conveyorPending: Outcome<MemoryFootprint>;
  readonly bullmqPending: Outcome<MemoryFootprint>;
  readonly conveyorCompleted: Outcome<MemoryFootprint>;
  /** Size of the no-op job's stored result (`null`), bytes. */
  readonly resultBytes: number;
}

/** Most bytes a retained completed job may take beyond its result. */
export const COMPLETED_JOB_OVERHEAD_BYTES = 1024;

const DASH = '-';

/** A cell's value when measured, else a dash; the error goes to the notes under the table. */
function cell<T>(outcome: Outcome<T>, show: (value: T) => string): string {
  return outcome.ok ? show(outcome.value) : DASH;
}

function notes(entries: readonly [string, Outcome<unknown>][]): string[] {
  return entries.flatMap(([label, outcome]) => (outcome.ok ? [] : [`  ${label}: ERROR ${outcome.error}`]));
}

function withNotes(table: string, lines: readonly string[]): string {
  return [table, ...lines].join('\n');
}

export function claimScaleTable(r: ClaimScaleResults): string {
  const row = (signatures: number, o: Outcome<ClaimScale>) => [
    fmt(signatures),
    fmt(r.pending),
    fmt(r.claims),
    cell(o, (v) => fmt(v.serverUs, 1)),
    cell(o, (v) => fmt(v.fcalls, 2)),
    cell(o, (v) => ms(v.roundTrip.p50)),
    cell(o, (v) => ms(v.roundTrip.p99)),
  ];
  const table = formatTable(
    'Conveyor claim cost vs pending requirement signatures: one service, one worker compatible with all, claim(identity, 1), ' +
      'depth kept constant; both sides in one Redis (own namespaces), timed in alternating windows',
    ['pending signatures', 'pending jobs', 'timed claims', 'server µs/claim', 'FCALLs/claim', 'round trip p50 ms', 'p99 ms'],
    [row(r.signatures.few, r.few), row(r.signatures.many, r.many)],
  );
  return withNotes(table, notes([[`${fmt(r.signatures.few)} signatures`, r.few], [`${fmt(r.signatures.many)} signatures`, r.many]]));
}

export function submitScaleTable(r: SubmitScaleResults): string {
  const row = (classes: number, o: Outcome<SubmitScale>) => [
    fmt(r.workers),
    fmt(classes),
    cell(o, (v) => v.info.layout),
    fmt(r.submits),
    cell(o, (v) => fmt(v.serverUs, 1)),
    cell(o, (v) => fmt(v.fcalls, 2)),
  ];
  const table = formatTable(
    'Conveyor submit cost vs capability classes: busy workers (heartbeating, never idle), all able to run the jobs; ' +
      'both fleets in one Redis (own namespaces), timed in alternating windows',
    ['busy workers', 'capability classes', 'machines', 'timed submits', 'server µs/submit', 'FCALLs/submit'],
    [row(r.classes.few, r.few), row(r.classes.many, r.many)],
  );
  return withNotes(table, notes([[`${fmt(r.classes.few)} classes`, r.few], [`${fmt(r.classes.many)} classes`, r.many]]));
}

export function fairnessTable(r: FairnessResults): string {
  const table = formatTable(
    `Fairness: tenant A floods, then tenant B submits; W = ${r.slots} worker slots claim/complete in parallel (no-op jobs)`,
    ['worker slots (W)', 'tenant A flood', 'tenant B jobs', "A jobs started before B's first", 'target'],
    [[fmt(r.slots), fmt(r.flood), fmt(r.late), cell(r.outcome, (v) => fmt(v.waitedClaims)), `<= ${fmt(2 * r.slots)} (2W)`]],
  );
  return withNotes(table, notes([['fairness', r.outcome]]));
}

export function memoryTable(r: MemoryResults): string {
  const bytes = (o: Outcome<MemoryFootprint>) => cell(o, (v) => fmt(v.bytesPerJob));
  const completedLimit = COMPLETED_JOB_OVERHEAD_BYTES + r.resultBytes;
  const completedVerdict = cell(r.conveyorCompleted, (v) => (v.bytesPerJob <= completedLimit ? 'met' : 'MISSED'));
  const table = formatTable(
    `Redis memory per job: used_memory growth over ${fmt(r.jobs)} no-op jobs, from a flushed Redis`,
    ['case', 'bytes/job', 'target'],
    [
      ['conveyor, pending (no worker)', bytes(r.conveyorPending), 'mem_ratio <= 2'],
      ['bullmq, pending (no worker)', bytes(r.bullmqPending), ''],
      [
        `conveyor, completed and retained (result ${r.resultBytes} B)`,
        bytes(r.conveyorCompleted),
        `<= ${fmt(completedLimit)} ${completedVerdict}`,
      ],
    ],
  );
  return withNotes(
    table,
    notes([
      ['conveyor pending', r.conveyorPending],
      ['bullmq pending', r.bullmqPending],
      ['conveyor completed', r.conveyorCompleted],
    ]),
  );
}

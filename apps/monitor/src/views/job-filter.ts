import { JOB_STATUSES, type JobStatus } from '../protocol.ts';
import type { JobRow } from '../state/job-rows.ts';

export interface JobFilter {
  readonly status: readonly JobStatus[];
  readonly service: string;
  readonly tenant: string;
  readonly machine: string;
  /** Part of a job id. */
  readonly search: string;
}

/** The filter lives in the URL (`#/jobs?status=active,pending&service=…`), so a reload or a shared link keeps it. */
export function filterFromQuery(q: URLSearchParams): JobFilter {
  const status = (q.get('status') ?? '')
    .split(',')
    .filter((s): s is JobStatus => (JOB_STATUSES as readonly string[]).includes(s));
  return { status, service: q.get('service') ?? '', tenant: q.get('tenant') ?? '', machine: q.get('machine') ?? '', search: q.get('q') ?? '' };
}

export function filterToQuery(f: JobFilter): string {
  const q = new URLSearchParams();
  if (f.status.length) q.set('status', f.status.join(','));
  if (f.service) q.set('service', f.service);
  if (f.tenant) q.set('tenant', f.tenant);
  if (f.machine) q.set('machine', f.machine);
  if (f.search) q.set('q', f.search);
  const s = q.toString();
  return s ? `?${s}` : '';
}

export function matches(row: JobRow, f: JobFilter): boolean {
  return (
    (f.status.length === 0 || f.status.includes(row.status)) &&
    (!f.service || row.service === f.service) &&
    (!f.tenant || row.tenant === f.tenant) &&
    (!f.machine || row.machine === f.machine) &&
    (!f.search || row.id.includes(f.search.trim()))
  );
}

/** Newest first (ids begin with the submit time). */
export function selectJobs(jobs: ReadonlyMap<string, JobRow>, f: JobFilter): JobRow[] {
  const out: JobRow[] = [];
  for (const row of jobs.values()) if (matches(row, f)) out.push(row);
  return out.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

/** Distinct values of one field, for the filter menus. */
export function distinct(jobs: ReadonlyMap<string, JobRow>, pick: (r: JobRow) => string | undefined): string[] {
  const set = new Set<string>();
  for (const row of jobs.values()) {
    const v = pick(row);
    if (v) set.add(v);
  }
  return [...set].sort();
}

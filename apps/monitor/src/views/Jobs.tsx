import { useMemo, useState } from 'react';
import { ApiRequestError } from '../api/http.ts';
import type { JobStatus } from '../protocol.ts';
import { useFleet, useServerNow, useSession } from '../state/hooks.ts';
import type { JobRow } from '../state/job-rows.ts';
import { formatCount, formatDuration, formatTime } from '../ui/format.ts';
import { ProgressBar } from '../ui/ProgressBar.tsx';
import { href, navigate } from '../ui/router.ts';
import { StatusBadge } from '../ui/StatusBadge.tsx';
import { VirtualList } from '../ui/VirtualList.tsx';
import { distinct, filterFromQuery, filterToQuery, selectJobs, type JobFilter } from './job-filter.ts';
import { JobFilters } from './JobFilters.tsx';

const ROW_HEIGHT = 40;

function JobLine({ row, now }: { readonly row: JobRow; readonly now: number }) {
  const tone = row.status === 'completed' ? 'done' : row.status === 'failed' ? 'failed' : row.status === 'active' ? 'active' : 'muted';
  const ran = row.finishedAt !== undefined ? row.finishedAt - row.createdAt : now - row.createdAt;
  return (
    <div className="job-line" data-job={row.id} data-status={row.status} onClick={() => navigate(`/jobs/${row.id}`)}>
      <a role="cell" className="mono" href={href(`/jobs/${row.id}`)} onClick={(e) => e.stopPropagation()}>
        {row.id}
      </a>
      <span role="cell">{row.service || <span className="muted">…</span>}</span>
      <span role="cell" className="muted">
        {row.tenant}
      </span>
      <span role="cell">
        <StatusBadge status={row.status} />
        {row.cancelRequested && row.status === 'active' && <span className="muted small"> cancelling</span>}
      </span>
      <span role="cell">
        <ProgressBar percent={row.progress?.percent ?? 0} tone={tone} size="sm" label={`job ${row.id} progress`} />
      </span>
      <span role="cell" className="mono small ellipsis" title={row.worker}>
        {row.machine ?? '—'}
      </span>
      <span role="cell" className="num">
        {row.attempts}
      </span>
      <span role="cell" className="small">
        {formatTime(row.createdAt)}
      </span>
      <span role="cell" className="num small">
        {formatDuration(ran)}
      </span>
    </div>
  );
}

export function Jobs({ query }: { readonly query: URLSearchParams }) {
  const fleet = useFleet();
  const session = useSession();
  const now = useServerNow();
  const filter = filterFromQuery(query);
  const key = filterToQuery(filter);
  const [older, setOlder] = useState<{ key: string; cursor?: string; done: boolean; loading: boolean; error?: string }>({ key, done: false, loading: false });
  const paging = older.key === key ? older : { key, done: false, loading: false };

  // `key` stands for the filter (a new object each render); `fleet.jobs` is a new map whenever a row changes.
  const rows = useMemo(() => selectJobs(fleet.jobs, filter), [fleet.jobs, key]);
  const options = useMemo(
    () => ({ services: distinct(fleet.jobs, (r) => r.service), tenants: distinct(fleet.jobs, (r) => r.tenant), machines: distinct(fleet.jobs, (r) => r.machine) }),
    [fleet.jobs],
  );
  const counts = useMemo(() => {
    const c: Partial<Record<JobStatus, number>> = {};
    for (const r of selectJobs(fleet.jobs, { ...filter, status: [] })) c[r.status] = (c[r.status] ?? 0) + 1;
    return c;
  }, [fleet.jobs, key]);

  const change = (next: JobFilter) => navigate(`/jobs${filterToQuery(next)}`);
  const loadOlder = async () => {
    setOlder({ ...paging, loading: true, error: undefined });
    try {
      const page = await session.api.listJobs({ status: filter.status, service: filter.service || undefined, tenant: filter.tenant || undefined, limit: 500, cursor: paging.cursor });
      session.store.upsertJobs(page.jobs);
      setOlder({ key, cursor: page.cursor, done: !page.cursor, loading: false });
    } catch (err) {
      setOlder({ ...paging, loading: false, error: err instanceof ApiRequestError ? err.message : String(err) });
    }
  };

  return (
    <div className="view view-fill">
      <JobFilters filter={filter} onChange={change} options={options} counts={counts} />
      <div className="list-toolbar">
        <span>
          <b>{formatCount(rows.length)}</b> jobs <span className="muted">of {formatCount(fleet.jobs.size)} known to this page</span>
        </span>
        <span className="list-toolbar-actions">
          {paging.error && <span className="text-bad small">{paging.error}</span>}
          <button type="button" className="button" disabled={paging.loading || paging.done} onClick={() => void loadOlder()}>
            {paging.done ? 'All loaded' : paging.loading ? 'Loading…' : 'Load older from the API'}
          </button>
        </span>
      </div>
      <div className="job-line job-head" role="row">
        <span>Job</span>
        <span>Service</span>
        <span>Tenant</span>
        <span>Status</span>
        <span>Progress</span>
        <span>Machine</span>
        <span className="num">Att.</span>
        <span>Created</span>
        <span className="num">Age / took</span>
      </div>
      {rows.length === 0 ? (
        <p className="empty">No jobs match this filter.</p>
      ) : (
        <VirtualList label="Jobs" count={rows.length} rowHeight={ROW_HEIGHT} renderRow={(i) => <JobLine row={rows[i] as JobRow} now={now} />} />
      )}
    </div>
  );
}

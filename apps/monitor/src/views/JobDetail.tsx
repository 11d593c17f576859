import type { Job } from '../protocol.ts';
import { useServerNow } from '../state/hooks.ts';
import { formatDateTime, formatDuration } from '../ui/format.ts';
import { Empty, Panel } from '../ui/Panel.tsx';
import { ProgressBar } from '../ui/ProgressBar.tsx';
import { href } from '../ui/router.ts';
import { StatusBadge } from '../ui/StatusBadge.tsx';
import { attemptsOf, jsonForDisplay } from './job-detail-data.ts';
import { JobActions } from './JobActions.tsx';
import { ResultView } from './ResultView.tsx';
import { Timeline } from './Timeline.tsx';
import { useJobDetail } from './useJobDetail.ts';

function Facts({ job, now }: { readonly job: Job; readonly now: number }) {
  const waited = (job.startedAt ?? now) - job.createdAt;
  const ran = job.startedAt === undefined ? undefined : (job.finishedAt ?? now) - job.startedAt;
  return (
    <dl className="facts facts-grid">
      <dt>Service</dt>
      <dd>{job.service}</dd>
      <dt>Tenant</dt>
      <dd>{job.tenant}</dd>
      <dt>Priority</dt>
      <dd>{job.priority}</dd>
      <dt>Attempts</dt>
      <dd>
        {job.attempts} of {job.maxAttempts}
      </dd>
      <dt>Created</dt>
      <dd>{formatDateTime(job.createdAt)}</dd>
      <dt>Waited</dt>
      <dd>{formatDuration(waited)}</dd>
      <dt>Ran</dt>
      <dd>{ran === undefined ? '—' : formatDuration(ran)}</dd>
      <dt>Worker</dt>
      <dd className="mono">{job.worker ?? '—'}</dd>
      <dt>Machine</dt>
      <dd className="mono">{job.machine ?? '—'}</dd>
      {job.workflow && (
        <>
          <dt>Workflow</dt>
          <dd>
            {job.workflow.id} · step {job.workflow.step} of {job.workflow.total}
          </dd>
        </>
      )}
      {job.webhook && (
        <>
          <dt>Webhook</dt>
          <dd className="mono small">{job.webhook.url}</dd>
        </>
      )}
      {Object.keys(job.requirements).length > 0 && (
        <>
          <dt>Requirements</dt>
          <dd className="mono small">{JSON.stringify(job.requirements)}</dd>
        </>
      )}
    </dl>
  );
}

export function JobDetail({ id }: { readonly id: string }) {
  const { detail, error, reload } = useJobDetail(id);
  const now = useServerNow();
  if (error && !detail) {
    return (
      <div className="view">
        <Panel title={<span className="mono">{id}</span>}>
          <Empty>{error.status === 404 ? 'This job does not exist (it may have expired after its retention period).' : `${error.code}: ${error.message}`}</Empty>
        </Panel>
      </div>
    );
  }
  if (!detail) return <div className="view muted">Loading job {id}…</div>;
  const { job, timeline } = detail;
  const percent = job.status === 'completed' ? 100 : (job.progress?.percent ?? 0);
  const tone = job.status === 'completed' ? 'done' : job.status === 'failed' ? 'failed' : job.status === 'active' ? 'active' : 'muted';
  const attempts = attemptsOf(timeline);

  return (
    <div className="view">
      <p className="crumbs">
        <a href={href('/jobs')}>Jobs</a> / <span className="mono">{job.id}</span>
      </p>
      <Panel
        title={
          <span className="job-title">
            <span className="mono">{job.id}</span> <StatusBadge status={job.status} />
            {job.cancelRequested && job.status === 'active' && <span className="badge badge-warn">cancel requested</span>}
          </span>
        }
        actions={<JobActions job={job} onDone={reload} />}
      >
        <div className="job-progress">
          <ProgressBar percent={percent} tone={tone} label="job progress" />
          <span className="muted small">{job.progress?.message ?? ''}</span>
        </div>
        {job.error && (
          <div className="error-box" role="alert">
            <b>{job.error.code}</b> {job.error.message}
            <span className="muted small"> {job.error.retryable ? '(retryable)' : '(not retryable)'}</span>
          </div>
        )}
        <Facts job={job} now={now} />
      </Panel>

      <div className="grid-2">
        <Panel title="Attempts">
          {attempts.length === 0 ? (
            <Empty>Not started yet.</Empty>
          ) : (
            <table className="table compact" aria-label="Attempts">
              <thead>
                <tr>
                  <th className="num">#</th>
                  <th>Worker · machine</th>
                  <th>Outcome</th>
                  <th className="num">Took</th>
                </tr>
              </thead>
              <tbody>
                {attempts.map((a) => (
                  <tr key={`${a.number}-${a.startedAt}`}>
                    <td className="num">{a.number}</td>
                    <td className="mono small">{[a.worker, a.machine].filter(Boolean).join(' · ')}</td>
                    <td>
                      <StatusBadge status={a.outcome} />
                      {a.error && <div className="small text-bad">{`${a.error.code}: ${a.error.message}`}</div>}
                    </td>
                    <td className="num small">{formatDuration((a.endedAt ?? now) - a.startedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Panel>
        <Panel title="Payload">
          <pre className="json">{jsonForDisplay(job.payload)}</pre>
        </Panel>
      </div>

      {job.result !== undefined && (
        <Panel title="Result">
          <ResultView result={job.result} />
        </Panel>
      )}

      <Panel title={`Timeline (${timeline.length} events)`}>
        <Timeline timeline={timeline} />
      </Panel>
    </div>
  );
}

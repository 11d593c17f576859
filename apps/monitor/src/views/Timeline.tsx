import type { JobEvent } from '../protocol.ts';
import { formatTime } from '../ui/format.ts';
import { StatusBadge } from '../ui/StatusBadge.tsx';

function details(e: JobEvent): string {
  switch (e.type) {
    case 'pending':
      return e.reason ? `queued again (${e.reason})` : 'queued';
    case 'delayed':
      return e.dueAt ? `runs at ${formatTime(e.dueAt)}` : 'delayed';
    case 'active':
      return `attempt ${e.attempt ?? '?'} started`;
    case 'progress':
      return `${Math.round(e.progress?.percent ?? 0)}%${e.progress?.message ? ` · ${e.progress.message}` : ''}`;
    case 'retrying':
      return `${e.error ? `${e.error.code}: ${e.error.message}` : 'failed'} · retry at ${formatTime(e.dueAt)}`;
    case 'failed':
      return e.error ? `${e.error.code}: ${e.error.message}` : 'failed';
    case 'lease-expired':
      return 'the worker stopped renewing its lease';
    case 'lease-released':
      return e.reason === 'given-back' ? 'the worker had no free slot for the job pushed to it and gave it back' : 'the worker restarted and gave its lease back';
    case 'cancel-requested':
      return 'cancel requested; the worker stops the job';
    case 'webhook': {
      const status = e.httpStatus !== undefined ? `HTTP ${e.httpStatus}` : 'no answer';
      const next = e.delivery === 'retrying' && e.dueAt ? ` · next try ${formatTime(e.dueAt)}` : '';
      return `delivery ${e.webhookAttempt ?? '?'}: ${e.delivery ?? '?'} (${status})${e.reason ? ` · ${e.reason}` : ''}${next}`;
    }
    default:
      return '';
  }
}

const TONE: Partial<Record<JobEvent['type'], string>> = { retrying: 'warn', failed: 'bad', 'lease-expired': 'warn', 'lease-released': 'warn', webhook: 'muted' };

/** Runs of progress reports are folded into their last one, so a 1,000-step job stays readable. */
function fold(timeline: readonly JobEvent[]): { event: JobEvent; folded: number }[] {
  const out: { event: JobEvent; folded: number }[] = [];
  for (const e of timeline) {
    const last = out.at(-1);
    if (e.type === 'progress' && last?.event.type === 'progress') out[out.length - 1] = { event: e, folded: last.folded + 1 };
    else out.push({ event: e, folded: 0 });
  }
  return out;
}

export function Timeline({ timeline }: { readonly timeline: readonly JobEvent[] }) {
  return (
    <table className="table compact timeline" aria-label="Timeline">
      <thead>
        <tr>
          <th>Time</th>
          <th>Event</th>
          <th className="num">Attempt</th>
          <th>Worker · machine</th>
          <th className="wide">Details</th>
        </tr>
      </thead>
      <tbody>
        {fold(timeline).map(({ event: e, folded }) => (
          <tr key={e.id} data-event={e.type} className={TONE[e.type] ? `row-${TONE[e.type]}` : undefined}>
            <td className="mono small">{formatTime(e.ts)}</td>
            <td>
              <StatusBadge status={e.type === 'webhook' ? (e.delivery === 'delivered' ? 'done' : e.delivery === 'gave-up' ? 'failed' : 'pending') : e.type} />
              {e.type === 'webhook' && <span className="small"> webhook</span>}
            </td>
            <td className="num">{e.attempt ?? ''}</td>
            <td className="mono small">{[e.worker, e.machine].filter(Boolean).join(' · ')}</td>
            <td className="small">
              {details(e)}
              {folded > 0 && <span className="muted"> (+{folded} earlier progress reports)</span>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

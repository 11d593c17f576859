import { useState } from 'react';
import { ApiRequestError } from '../api/http.ts';
import type { Job } from '../protocol.ts';
import { useSession } from '../state/hooks.ts';

const CANCELLABLE = new Set(['pending', 'delayed', 'active']);
const RETRYABLE = new Set(['failed', 'cancelled']);

/** Cancel (unfinished jobs) and retry (failed or cancelled ones), with the API's answer shown. */
export function JobActions({ job, onDone }: { readonly job: Job; readonly onDone: () => void }) {
  const { api } = useSession();
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ tone: 'ok' | 'bad'; text: string } | null>(null);

  const run = async (action: 'cancel' | 'retry') => {
    setBusy(true);
    setMessage(null);
    try {
      const answer = action === 'cancel' ? await api.cancel(job.id) : await api.retry(job.id);
      const text =
        answer.status === 'cancel-requested' ? 'Cancel requested: the worker stops the job.' : answer.status === 'cancelled' ? 'Cancelled.' : `Queued again (${answer.status}).`;
      setMessage({ tone: 'ok', text });
      onDone();
    } catch (err) {
      setMessage({ tone: 'bad', text: err instanceof ApiRequestError ? `${err.code}: ${err.message}` : String(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="actions">
      {CANCELLABLE.has(job.status) && (
        <button type="button" className="button danger" disabled={busy || job.cancelRequested} onClick={() => void run('cancel')}>
          {job.cancelRequested ? 'Cancelling…' : 'Cancel job'}
        </button>
      )}
      {RETRYABLE.has(job.status) && (
        <button type="button" className="button" disabled={busy} onClick={() => void run('retry')}>
          Retry job
        </button>
      )}
      {message && (
        <span role="status" className={message.tone === 'bad' ? 'text-bad small' : 'muted small'}>
          {message.text}
        </span>
      )}
    </div>
  );
}

import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiRequestError } from '../api/http.ts';
import type { JobDetailResponse } from '../protocol.ts';
import { useSession } from '../state/hooks.ts';

/** Refetches at most this often while events stream in. */
const REFETCH_MS = 400;

export interface JobDetailState {
  readonly detail: JobDetailResponse | null;
  readonly error: ApiRequestError | null;
  readonly reload: () => void;
}

/**
 * A job with its timeline, kept live: progress events patch the progress in place, any other
 * event of this job refetches it (throttled), and so does every fresh snapshot after a reconnect.
 */
export function useJobDetail(id: string): JobDetailState {
  const session = useSession();
  const [detail, setDetail] = useState<JobDetailResponse | null>(null);
  const [error, setError] = useState<ApiRequestError | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const alive = useRef(true);

  const load = useCallback(() => {
    session.api.getJob(id).then(
      (d) => {
        if (!alive.current) return;
        setDetail(d);
        setError(null);
        session.store.upsertJobs([d.job]);
      },
      (err: unknown) => {
        if (alive.current) setError(err instanceof ApiRequestError ? err : new ApiRequestError(0, 'UNKNOWN', String(err)));
      },
    );
  }, [session, id]);

  const scheduleLoad = useCallback(() => {
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = undefined;
      load();
    }, REFETCH_MS);
  }, [load]);

  useEffect(() => {
    alive.current = true;
    setDetail(null);
    setError(null);
    load();
    const offEvents = session.store.onJobEvent(id, (e) => {
      if (e.type === 'progress' && e.progress) {
        const progress = e.progress;
        setDetail((d) => (d && d.job.status === 'active' ? { ...d, job: { ...d.job, progress } } : d));
      }
      scheduleLoad();
    });
    let syncedAt = session.store.view().syncedAt;
    const offStore = session.store.subscribe(() => {
      const now = session.store.view().syncedAt;
      if (now !== syncedAt) {
        syncedAt = now;
        scheduleLoad();
      }
    });
    return () => {
      alive.current = false;
      clearTimeout(timer.current);
      timer.current = undefined;
      offEvents();
      offStore();
    };
  }, [session, id, load, scheduleLoad]);

  return { detail, error, reload: load };
}

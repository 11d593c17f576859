import type { ServerResponse } from 'node:http';
import type { Runtime } from '../runtime.ts';
import { leavesJobFinished, type StreamedEvent } from './job-watch.ts';

export interface FollowUntilFinishedHandlers {
  /** Each batch of new timeline entries; `finished`: it leaves the job finished, and the follow ends right after. */
  readonly onEvents?: (events: StreamedEvent[], finished: boolean) => void;
  /** Reading the timeline failed; the follower reads again on the next event or heartbeat. */
  readonly onError: (err: unknown) => void;
  /** This instance started draining: the last chance to tell the client to come back in `retryMs`; the follow ends right after. */
  readonly onShutdown?: (retryMs: number) => void;
  /** Runs once, however the follow ended. */
  readonly onEnd: () => void;
}

/**
 * Follows one job for a held-open HTTP response until the job finishes, the client goes away or
 * this instance starts draining, whichever comes first. Returns `end`, which stops it sooner and
 * may be called any number of times.
 */
export function followUntilFinished(
  rt: Runtime,
  res: ServerResponse,
  jobId: string,
  after: string | undefined,
  handlers: FollowUntilFinishedHandlers,
): () => void {
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    follower.stop();
    unregister();
    res.off('close', end);
    handlers.onEnd();
  };
  const follower = rt.watch.follow(jobId, after, {
    onEvents: (events) => {
      const finished = leavesJobFinished(events);
      handlers.onEvents?.(events, finished);
      if (finished) end();
    },
    onError: handlers.onError,
  });
  const unregister = rt.live.add({
    kind: 'sse',
    sendReconnect: (retryMs) => {
      handlers.onShutdown?.(retryMs);
      end();
    },
  });
  res.on('close', end);
  return end;
}

import { createParser, type EventSourceMessage } from 'eventsource-parser';

export interface SseResult {
  readonly status: number;
  /** The JSON error body when the server refused the stream. */
  readonly error?: unknown;
  /** How the stream ended: the server closed it, or `onMessage` asked to stop. */
  readonly ended: 'closed' | 'stopped';
}

/** Reads one SSE response with a real HTTP request, calling `onMessage` per event until it returns 'stop' or the server closes. */
export async function readSse(
  url: string,
  options: { headers?: Record<string, string>; lastEventId?: string },
  onMessage: (message: EventSourceMessage) => 'stop' | void,
): Promise<SseResult> {
  const headers: Record<string, string> = { accept: 'text/event-stream', ...options.headers };
  if (options.lastEventId) headers['last-event-id'] = options.lastEventId;
  const response = await fetch(url, { headers });
  if (!response.ok || !response.body) return { status: response.status, error: await response.json().catch(() => undefined), ended: 'closed' };
  let stopped = false;
  const parser = createParser({
    onEvent(message) {
      if (!stopped && onMessage(message) === 'stop') stopped = true;
    },
  });
  const decoder = new TextDecoder();
  const reader = response.body.getReader();
  try {
    while (!stopped) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
  } finally {
    // Cancelling the body drops the connection, as a client that goes away would.
    if (stopped) await reader.cancel().catch(() => undefined);
  }
  return { status: response.status, ended: stopped ? 'stopped' : 'closed' };
}

export interface FollowResult {
  /** Timeline ids received, in order, across reconnects. */
  readonly ids: string[];
  readonly types: string[];
  readonly result: unknown;
  readonly connections: number;
}

/**
 * Follows a job's SSE stream to its `end`, reconnecting with Last-Event-ID whenever the stream
 * closes without one (a `reconnect` on shutdown, or a dropped connection) — what EventSource does.
 */
export async function followJob(base: string, jobId: string, headers: Record<string, string> = {}, deadlineMs = 60_000): Promise<FollowResult> {
  const ids: string[] = [];
  const types: string[] = [];
  let result: unknown;
  let ended = false;
  let connections = 0;
  const deadline = Date.now() + deadlineMs;
  while (!ended) {
    if (Date.now() > deadline) throw new Error(`job ${jobId}: no end event within ${deadlineMs} ms (got ${types.join(',')})`);
    connections++;
    try {
      const outcome = await readSse(`${base}/api/jobs/${jobId}/events`, { headers, lastEventId: ids.at(-1) }, (m) => {
        if (m.event === 'end') {
          ended = true;
          return 'stop';
        }
        if (m.event === 'reconnect') return 'stop';
        if (m.id) {
          ids.push(m.id);
          types.push(m.event ?? '');
          const data = JSON.parse(m.data) as { result?: unknown };
          if (m.event === 'completed') result = data.result;
        }
      });
      if (outcome.status !== 200) throw new Error(`job ${jobId}: events answered ${outcome.status} ${JSON.stringify(outcome.error)}`);
    } catch (err) {
      if ((err as Error).message.startsWith(`job ${jobId}`)) throw err;
    }
    if (!ended) await new Promise((r) => setTimeout(r, 100));
  }
  return { ids, types, result, connections };
}

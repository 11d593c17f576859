/** An HTTP failure an emulator is told to answer with instead of the real response. */
export interface Fault {
  readonly status: number;
  /** How many requests in a row get this answer; default 1, `Infinity` for every request until cleared. */
  readonly times?: number;
  /** Sent as `Retry-After` (seconds), the way rate-limited services tell clients when to return. */
  readonly retryAfterSeconds?: number;
  /** Sent as `retry-after-ms` (OpenAI's finer-grained companion header). */
  readonly retryAfterMs?: number;
  readonly message?: string;
  /** The service's own error code, where it has one (e.g. OpenAI's `insufficient_quota`). */
  readonly code?: string;
}

/** Faults queued by a test, consumed one request at a time in order. */
export class FaultQueue {
  private readonly queue: { fault: Fault; left: number }[] = [];

  push(fault: Fault): void {
    this.queue.push({ fault, left: fault.times ?? 1 });
  }

  /** The fault for the current request, if any is queued. */
  take(): Fault | undefined {
    const head = this.queue[0];
    if (!head) return undefined;
    head.left -= 1;
    if (head.left <= 0) this.queue.shift();
    return head.fault;
  }

  clear(): void {
    this.queue.length = 0;
  }
}

export function retryHeaders(fault: Fault): Record<string, string> {
  const headers: Record<string, string> = {};
  if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
  if (fault.retryAfterMs !== undefined) headers['retry-after-ms'] = String(fault.retryAfterMs);
  return headers;
}

/** A long-lived client stream (SSE response or WebSocket) that can be told to go elsewhere. */
export interface LiveConnection {
  readonly kind: 'sse' | 'ws' | 'monitor';
  /** Tells the client to reconnect (it will land on another instance) and closes this end. */
  sendReconnect(retryMs: number): void;
}

/**
 * Every open stream of this process, so shutdown can tell each one to reconnect before the
 * process leaves; without this, reload would look like a dropped connection to clients.
 */
export class LiveConnections {
  private readonly open = new Set<LiveConnection>();
  private draining = false;

  add(connection: LiveConnection): () => void {
    // Deferred so the caller has finished wiring the connection before it is told to leave.
    if (this.draining) queueMicrotask(() => connection.sendReconnect(0));
    else this.open.add(connection);
    return () => this.open.delete(connection);
  }

  get isDraining(): boolean {
    return this.draining;
  }

  drain(retryMs: number): number {
    this.draining = true;
    const all = [...this.open];
    this.open.clear();
    for (const c of all) c.sendReconnect(retryMs);
    return all.length;
  }
}

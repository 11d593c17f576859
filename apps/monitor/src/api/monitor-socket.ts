import {
  MonitorServerMessage,
  type DeltaMessage,
  type ErrorBody,
  type HelloMessage,
  type MonitorClientMessage,
  type SnapshotMessage,
} from '../protocol.ts';

/** WebSocket.OPEN, without depending on a global WebSocket (tests pass their own). */
const OPEN = 1;

export type SocketPhase =
  /** Opening a connection (`attempt` counts since the last live one). */
  | { readonly phase: 'connecting'; readonly attempt: number }
  /** Connected and synchronised from a snapshot. */
  | { readonly phase: 'live'; readonly since: number }
  /** Disconnected; the next attempt starts at `retryAt`. `everConnected`: this is a lost connection, not a failure to reach the API. */
  | { readonly phase: 'waiting'; readonly attempt: number; readonly retryAt: number; readonly reason: string; readonly everConnected: boolean }
  | { readonly phase: 'stopped' };

export interface MonitorSocketHandlers {
  hello(message: HelloMessage): void;
  snapshot(message: SnapshotMessage): void;
  delta(message: DeltaMessage): void;
  phase(phase: SocketPhase): void;
  /** An error message from the server, or a message that does not match the protocol. */
  problem(error: ErrorBody): void;
  /** A connection attempt failed before it opened: the caller can find out why over HTTP. */
  failedToOpen?(attempt: number): void;
}

export interface MonitorSocketOptions {
  readonly createSocket?: (url: string) => WebSocket;
  readonly now?: () => number;
  /** First reconnect delay; doubles per failed attempt up to `maxDelayMs`. */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Longest the client pings at; the server's `heartbeatMs` is used when shorter. */
  readonly pingMs?: number;
}

/**
 * The `/ws/monitor` connection: parses every message, reconnects by itself with backoff (or
 * after the `retryMs` a restarting server asks for), pings so a dead connection is noticed, and
 * asks for a fresh snapshot when it sees a gap in the delta sequence.
 */
export class MonitorSocket {
  private socket: WebSocket | null = null;
  private attempt = 0;
  private seq: number | null = null;
  private resyncRequested = false;
  private serverRetryMs: number | null = null;
  private opened = false;
  private everConnected = false;
  private stopped = true;
  private lastMessageAt = 0;
  private pingMs: number;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private readonly now: () => number;
  private readonly createSocket: (url: string) => WebSocket;

  constructor(
    private readonly url: string,
    private readonly handlers: MonitorSocketHandlers,
    private readonly options: MonitorSocketOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.createSocket = options.createSocket ?? ((u) => new WebSocket(u));
    this.pingMs = options.pingMs ?? 10_000;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    this.socket?.close(1000, 'monitor closed');
    this.socket = null;
    this.handlers.phase({ phase: 'stopped' });
  }

  /** Skips the wait before the next attempt. */
  retryNow(): void {
    if (this.stopped || this.socket) return;
    clearTimeout(this.retryTimer);
    this.connect();
  }

  requestResync(): void {
    this.send({ type: 'resync', ref: `resync-${this.now()}` });
  }

  private send(message: MonitorClientMessage): void {
    if (this.socket?.readyState === OPEN) this.socket.send(JSON.stringify(message));
  }

  private connect(): void {
    this.attempt++;
    this.opened = false;
    this.seq = null;
    this.resyncRequested = false;
    this.serverRetryMs = null;
    this.handlers.phase({ phase: 'connecting', attempt: this.attempt });
    let socket: WebSocket;
    try {
      socket = this.createSocket(this.url);
    } catch (err) {
      this.scheduleRetry(`cannot open ${this.url}: ${(err as Error).message}`);
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.opened = true;
      this.lastMessageAt = this.now();
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => this.checkAlive(), this.pingMs);
    };
    socket.onmessage = (event: MessageEvent) => this.receive(event.data);
    socket.onclose = (event: CloseEvent) => {
      if (this.socket !== socket) return;
      this.socket = null;
      clearInterval(this.pingTimer);
      if (this.stopped) return;
      if (!this.opened) this.handlers.failedToOpen?.(this.attempt);
      const reason = this.serverRetryMs !== null ? 'the API is restarting' : this.opened ? `connection lost (code ${event.code})` : `cannot connect to ${this.url}`;
      this.scheduleRetry(reason);
    };
  }

  /** No message for two ping intervals (a pong would have come) means the connection is dead. */
  private checkAlive(): void {
    if (this.now() - this.lastMessageAt > 2 * this.pingMs + 1000) {
      this.socket?.close(4000, 'no answer to pings');
      // Browsers may take long to report a close on a dead link; go on without waiting for it.
      const dead = this.socket;
      this.socket = null;
      clearInterval(this.pingTimer);
      if (dead) dead.onclose = null;
      if (!this.stopped) this.scheduleRetry('the API stopped answering');
      return;
    }
    this.send({ type: 'ping' });
  }

  private receive(data: unknown): void {
    this.lastMessageAt = this.now();
    let raw: unknown;
    try {
      raw = JSON.parse(String(data));
    } catch {
      this.handlers.problem({ code: 'BAD_MESSAGE', message: 'the API sent a message that is not JSON', issues: [] });
      return;
    }
    const parsed = MonitorServerMessage.safeParse(raw);
    if (!parsed.success) {
      const issues = parsed.error.issues.slice(0, 5).map((i) => ({ path: i.path.join('.'), message: i.message }));
      this.handlers.problem({ code: 'PROTOCOL_MISMATCH', message: `unexpected message from the API (type ${String((raw as { type?: unknown })?.type)})`, issues });
      // A message we could not apply leaves the state behind; a fresh snapshot repairs it.
      this.requestResync();
      return;
    }
    const message = parsed.data;
    switch (message.type) {
      case 'hello':
        this.pingMs = Math.min(this.options.pingMs ?? 10_000, message.heartbeatMs);
        clearInterval(this.pingTimer);
        this.pingTimer = setInterval(() => this.checkAlive(), this.pingMs);
        this.handlers.hello(message);
        return;
      case 'snapshot':
        this.seq = message.seq;
        this.resyncRequested = false;
        this.attempt = 0;
        this.everConnected = true;
        this.handlers.snapshot(message);
        this.handlers.phase({ phase: 'live', since: this.now() });
        return;
      case 'delta':
        this.delta(message);
        return;
      case 'reconnect':
        this.serverRetryMs = message.retryMs;
        return;
      case 'error':
        this.handlers.problem(message.error);
        return;
      case 'pong':
        return;
    }
  }

  private delta(message: DeltaMessage): void {
    // Before the first snapshot there is nothing to patch; deltas up to its seq are already in it.
    if (this.seq === null || message.seq <= this.seq) return;
    if (message.seq !== this.seq + 1 && !this.resyncRequested) {
      this.resyncRequested = true;
      this.requestResync();
    }
    this.seq = message.seq;
    this.handlers.delta(message);
  }

  private scheduleRetry(reason: string): void {
    const backoff = Math.min(this.options.maxDelayMs ?? 10_000, (this.options.baseDelayMs ?? 500) * 2 ** Math.max(0, this.attempt - 1));
    // Jitter spreads the reconnects of many monitors after a server restart.
    const delay = this.serverRetryMs ?? Math.round(backoff * (0.75 + Math.random() * 0.5));
    const retryAt = this.now() + delay;
    this.handlers.phase({ phase: 'waiting', attempt: this.attempt, retryAt, reason, everConnected: this.everConnected });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (!this.stopped) this.connect();
    }, delay);
  }
}

import { ApiRequestError, type ApiClient } from '../api/http.ts';
import { MonitorSocket, type MonitorSocketOptions, type SocketPhase } from '../api/monitor-socket.ts';
import { websocketUrl } from '../config.ts';
import { PROTOCOL_VERSION, type ErrorBody, type HelloMessage } from '../protocol.ts';
import { FleetStore } from './fleet-store.ts';
import { JobHydrator } from './hydrator.ts';
import { SAMPLE_MS } from './metrics.ts';
import { seedHistory } from './seed.ts';

export interface SessionStatus {
  readonly socket: SocketPhase;
  readonly hello: HelloMessage | null;
  /** Set when the API refused the key: the app goes back to asking for one. */
  readonly authProblem: 'unauthenticated' | 'forbidden' | null;
  /** The last error the server sent, or a message the monitor could not read. */
  readonly problem: ErrorBody | null;
  /** Whether the history before the first snapshot is still loading or failed to load. */
  readonly history: 'loading' | 'loaded' | 'failed';
}

/**
 * One signed-in monitor: the `/ws/monitor` socket feeding the fleet store, job rows fetched
 * when events leave them incomplete, and the periodic history samples.
 */
export class MonitorSession {
  readonly store = new FleetStore();
  private readonly socket: MonitorSocket;
  private readonly hydrator: JobHydrator;
  private status: SessionStatus = { socket: { phase: 'stopped' }, hello: null, authProblem: null, problem: null, history: 'loading' };
  private readonly listeners = new Set<() => void>();
  private ticker: ReturnType<typeof setInterval> | undefined;
  private seeded = false;

  constructor(
    readonly api: ApiClient,
    apiKey: string | null,
    socketOptions: MonitorSocketOptions = {},
  ) {
    this.hydrator = new JobHydrator(api, this.store);
    const query = apiKey ? `?access_token=${encodeURIComponent(apiKey)}` : '';
    this.socket = new MonitorSocket(
      websocketUrl(api.baseUrl, `/ws/monitor${query}`),
      {
        hello: (hello) =>
          this.update({
            hello,
            problem:
              hello.protocol === PROTOCOL_VERSION
                ? null
                : { code: 'PROTOCOL_VERSION', message: `the API speaks monitor protocol ${hello.protocol}, this page ${PROTOCOL_VERSION}; reload it or update the monitor`, issues: [] },
          }),
        snapshot: (s) => {
          this.hydrator.enqueue(this.store.applySnapshot(s));
          if (!this.seeded) {
            this.seeded = true;
            seedHistory(api, this.store, s.at).then(
              () => this.update({ history: 'loaded' }),
              () => this.update({ history: 'failed' }),
            );
          }
        },
        delta: (d) => {
          this.store.applyDelta(d);
          const jobs = this.store.view().jobs;
          this.hydrator.enqueue(d.jobs.filter((e) => jobs.get(e.job)?.service === '').map((e) => e.job));
        },
        phase: (socket) => this.update({ socket }),
        problem: (problem) => this.update({ problem }),
        failedToOpen: () => void this.diagnose(),
      },
      socketOptions,
    );
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getStatus = (): SessionStatus => this.status;

  start(): void {
    this.socket.start();
    this.ticker = setInterval(() => this.store.tick(), SAMPLE_MS);
  }

  stop(): void {
    clearInterval(this.ticker);
    this.socket.stop();
    this.hydrator.clear();
  }

  retryNow(): void {
    this.socket.retryNow();
  }

  resync(): void {
    this.socket.requestResync();
  }

  /** A WebSocket refused before opening says nothing about why; the same key over HTTP does. */
  private async diagnose(): Promise<void> {
    try {
      await this.api.probe();
    } catch (err) {
      if (!(err instanceof ApiRequestError)) return;
      if (err.status === 401 || err.status === 403) {
        this.socket.stop();
        this.update({ authProblem: err.status === 401 ? 'unauthenticated' : 'forbidden', problem: { code: err.code, message: err.message, issues: [] } });
      }
    }
  }

  private update(patch: Partial<SessionStatus>): void {
    this.status = { ...this.status, ...patch };
    for (const listener of this.listeners) listener();
  }
}

import { mkdir, readFile } from 'node:fs/promises';
import { connect as connectSocket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type * as Pm2Module from 'pm2';
import type { Ecosystem } from './ecosystem.ts';
import { Pm2Error } from './errors.ts';
import { isAlive } from '@conveyor/local-stack';

type Pm2 = typeof Pm2Module;

export interface Pm2Process {
  readonly name: string;
  readonly pid: number | undefined;
  readonly status: string;
  readonly restarts: number;
}

let loaded: { home: string; pm2: Pm2 } | undefined;

/**
 * PM2 reads PM2_HOME when its module loads and hands it to the daemon it spawns, so the variable is
 * set before the first import; one process drives one PM2 home.
 */
async function loadPm2(home: string): Promise<Pm2> {
  if (loaded) {
    if (loaded.home !== home) throw new Pm2Error(`PM2 is already bound to ${loaded.home} in this process; cannot switch to ${home}`);
    return loaded.pm2;
  }
  process.env.PM2_HOME = home;
  // Keep PM2's banner and keymetrics agent out of a headless agent.
  process.env.PM2_DISCRETE_MODE = 'true';
  process.env.PM2_NO_INTERACTION = 'true';
  const mod = (await import('pm2')) as Pm2 & { default?: Pm2 };
  loaded = { home, pm2: mod.default ?? mod };
  return loaded.pm2;
}

/** PM2's client: `connect` pings the daemon and, when none answers, launches it with `launchDaemon`. */
interface Pm2Client {
  launchDaemon(cb: (err: unknown) => void): void;
}

/** Whether a PM2 daemon listens on the RPC socket of `home`. */
function daemonAnswers(home: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectSocket(join(home, 'rpc.sock'));
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function call<T>(what: string, run: (cb: (err: unknown, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) =>
    run((err, value) => (err ? reject(new Pm2Error(`pm2 ${what} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })) : resolve(value))),
  );
}

/** Drives a private PM2 daemon (its own PM2_HOME) through PM2's programmatic API. */
export class Pm2Controller {
  private constructor(
    private readonly pm2: Pm2,
    readonly home: string,
  ) {}

  /**
   * Connects to the daemon of `home`, spawning it when none runs. PM2's own connect concludes that
   * none runs only when its ping's socket retries, 100 ms after failing: when the RPC socket does
   * not answer, the daemon is launched at once with the launchDaemon that connect would call, and
   * connect then finds it. (A daemon connect launches itself also starts PM2 modules; the agent's
   * private PM2_HOME has none.)
   */
  static async connect(home: string): Promise<Pm2Controller> {
    const [pm2, running] = await Promise.all([loadPm2(home), mkdir(home, { recursive: true }).then(() => daemonAnswers(home))]);
    if (!running) await call<void>('launch daemon', (cb) => (pm2 as Pm2 & { Client: Pm2Client }).Client.launchDaemon((err) => cb(err, undefined)));
    await call<void>('connect', (cb) => pm2.connect((err) => cb(err, undefined)));
    return new Pm2Controller(pm2, home);
  }

  async start(ecosystem: Ecosystem): Promise<void> {
    if (ecosystem.apps.length === 0) return;
    const copy = structuredClone(ecosystem) as unknown as Pm2Module.StartOptions;
    await call('start', (cb) => this.pm2.start(copy, cb));
  }

  async list(): Promise<Pm2Process[]> {
    const list = await call<Pm2Module.ProcessDescription[]>('list', (cb) => this.pm2.list(cb));
    return list.map((p) => ({
      name: p.name ?? '',
      pid: p.pid || undefined,
      status: p.pm2_env?.status ?? 'unknown',
      restarts: p.pm2_env?.restart_time ?? 0,
    }));
  }

  /** Stops and removes apps; PM2 sends each its kill_signal and waits up to its kill_timeout. */
  async delete(names: readonly string[]): Promise<void> {
    const running = new Set((await this.list()).map((p) => p.name));
    await Promise.all(names.filter((n) => running.has(n)).map((name) => call(`delete ${name}`, (cb) => this.pm2.delete(name, cb))));
  }

  /** Stops every app and the daemon itself; returns once the daemon process is gone. */
  async kill(): Promise<void> {
    const daemon = Number(await readFile(join(this.home, 'pm2.pid'), 'utf8').catch(() => '0'));
    await call('kill', (cb) => this.pm2.killDaemon(cb));
    this.disconnect();
    // PM2 answers before its daemon has exited.
    for (let i = 0; i < 100 && daemon > 0 && isAlive(daemon); i++) await sleep(50);
  }

  disconnect(): void {
    this.pm2.disconnect();
  }
}

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ChildOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Each output line is written here with the child's name in front; otherwise output is only kept. */
  readonly echo?: NodeJS.WritableStream;
  /**
   * Own process group: a terminal's Ctrl-C then reaches only the supervisor, which stops the
   * children in order (the machine drains its workers before the API and Redis go away).
   */
  readonly detached?: boolean;
}

/** A supervised child process: its output (echoed with a prefix and kept), its exit, and a stop that escalates. */
export class Child {
  private tail = '';
  readonly exited: Promise<number | null>;

  private constructor(
    readonly name: string,
    readonly process: ChildProcess,
    echo: NodeJS.WritableStream | undefined,
  ) {
    this.exited = new Promise((resolve) => process.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))));
    for (const stream of [process.stdout, process.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => {
        this.tail = `${this.tail}${line}\n`.slice(-20_000);
        echo?.write(`[${name}] ${line}\n`);
      });
    }
  }

  static start(name: string, command: string, args: readonly string[], options: ChildOptions): Child {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached ?? false });
    return new Child(name, child, options.echo);
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  /** The last lines it printed, for error messages. */
  output(): string {
    return this.tail;
  }

  /** Sends `signal`; after `graceMs` without an exit, SIGKILL. Resolves with the exit code. */
  async stop(graceMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (!this.running) return await this.exited;
    this.process.kill(signal);
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Polls `probe` until it returns a value (not undefined/false), the child dies, or the deadline passes. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, child: Child, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!child.running) throw new Error(`${child.name} exited while waiting for ${what}:\n${child.output()}`);
    const value = await probe().catch(() => undefined);
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}:\n${child.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

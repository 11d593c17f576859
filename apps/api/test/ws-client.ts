import { WebSocket } from 'ws';
import type { z } from 'zod';

/**
 * A `ws` client that records every message after checking it against the server-message schema,
 * so a test fails on any message that breaks the documented protocol.
 */
export class TestSocket<S extends z.ZodTypeAny> {
  readonly messages: z.output<S>[] = [];
  closeCode: number | undefined;
  private waiters: (() => void)[] = [];

  private constructor(
    readonly ws: WebSocket,
    private readonly schema: S,
  ) {
    ws.on('message', (data) => {
      const parsed = this.schema.parse(JSON.parse(String(data)));
      this.messages.push(parsed);
      this.wake();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.wake();
    });
  }

  static async open<S extends z.ZodTypeAny>(url: string, schema: S, headers: Record<string, string> = {}): Promise<TestSocket<S>> {
    const ws = new WebSocket(url, { headers });
    const socket = new TestSocket(ws, schema);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    return socket;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The first recorded message (from index `from`) matching `predicate`, waiting for it if needed. */
  async next<T extends z.output<S>>(predicate: (m: z.output<S>) => m is T, from?: number, timeoutMs?: number): Promise<T>;
  async next(predicate: (m: z.output<S>) => boolean, from?: number, timeoutMs?: number): Promise<z.output<S>>;
  async next(predicate: (m: z.output<S>) => boolean, from = 0, timeoutMs = 15_000): Promise<z.output<S>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.slice(from).find(predicate);
      if (found !== undefined) return found;
      if (this.closeCode !== undefined) throw new Error(`socket closed (${this.closeCode}) before the expected message`);
      if (Date.now() > deadline) throw new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.messages.map((m) => (m as { type: string }).type))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    if (this.ws.readyState === this.ws.CLOSED) return;
    const closed = new Promise((r) => this.ws.once('close', r));
    this.ws.close();
    await closed;
  }
}

/** Resolves with the HTTP status a refused upgrade got. */
export async function refusedUpgrade(url: string, headers: Record<string, string> = {}): Promise<number> {
  return await new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      ws.close();
      reject(new Error('upgrade was accepted'));
    });
    ws.once('error', () => undefined);
  });
}

import { JobId } from '@conveyor/core';
import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import type { z } from 'zod';
import { ApiError, toHttpError } from '../errors.ts';

/** Close codes this API uses (RFC 6455 §7.4 and the IANA registry). */
export const CloseCode = { Normal: 1000, PolicyViolation: 1008, ServiceRestart: 1012, TryAgainLater: 1013 } as const;

/** Beyond this much unsent data a socket is a slow consumer: monitors resync later, sessions are closed. */
export const SLOW_CONSUMER_BYTES = 8 * 1024 * 1024;

type Ref = string | undefined;

/**
 * One WebSocket with the plumbing both endpoints share: JSON in and out, schema-checked input,
 * protocol-level ping/pong liveness, and errors in the same shape as HTTP errors.
 */
export class Channel<Out extends { type: string }> {
  private alive = true;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    readonly socket: WebSocket,
    heartbeatMs: number,
    private readonly log: FastifyBaseLogger,
  ) {
    socket.on('pong', () => (this.alive = true));
    // A peer that misses a whole interval of pings is gone; terminate so its subscriptions are released.
    this.heartbeat = setInterval(() => {
      if (!this.alive) {
        socket.terminate();
        return;
      }
      this.alive = false;
      socket.ping();
    }, heartbeatMs);
    this.heartbeat.unref();
    socket.on('close', () => clearInterval(this.heartbeat));
  }

  get open(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  get buffered(): number {
    return this.socket.bufferedAmount;
  }

  send(message: Out): void {
    this.sendText(JSON.stringify(message));
  }

  sendText(text: string): void {
    if (this.open) this.socket.send(text);
  }

  sendError(err: unknown, ref: Ref, jobId?: string): void {
    const { status, body, internal } = toHttpError(err);
    if (internal) this.log.error({ err }, 'websocket request failed');
    const error = { ...body.error, status };
    this.sendText(JSON.stringify({ type: 'error', ref, ...(jobId ? { jobId } : {}), error }));
  }

  /** Calls `handler` with each valid message; malformed ones get an error reply and the socket stays open. */
  onMessage<S extends z.ZodTypeAny>(schema: S, handler: (message: z.output<S>) => Promise<void> | void): void {
    this.socket.on('message', (data, isBinary) => {
      let ref: Ref;
      let jobId: string | undefined;
      try {
        if (isBinary) throw new ApiError(400, 'BINARY_NOT_SUPPORTED', 'send JSON text frames, not binary frames');
        let raw: unknown;
        try {
          raw = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : String(data));
        } catch {
          throw new ApiError(400, 'BAD_JSON', 'message is not valid JSON');
        }
        ref = refOf(raw);
        jobId = jobIdOf(raw);
        const parsed = schema.safeParse(raw);
        if (!parsed.success) throw ApiError.fromZod(parsed.error, 'message');
        const reply = handler(parsed.data);
        if (reply) reply.catch((err: unknown) => this.sendError(err, ref, jobId));
      } catch (err) {
        this.sendError(err, ref, jobId);
      }
    });
  }

  close(code: number, reason: string): void {
    clearInterval(this.heartbeat);
    if (this.open) this.socket.close(code, reason);
  }
}

function refOf(raw: unknown): Ref {
  const ref = (raw as { ref?: unknown } | null)?.ref;
  return typeof ref === 'string' && ref.length <= 100 ? ref : undefined;
}

/** Errors about a job name it, so a client following many jobs knows which one failed. */
function jobIdOf(raw: unknown): string | undefined {
  const jobId = (raw as { jobId?: unknown } | null)?.jobId;
  return JobId.safeParse(jobId).success ? (jobId as string) : undefined;
}

import type { FastifyBaseLogger } from 'fastify';
import type { Runtime } from '../../runtime.ts';
import type { JobFollower, StreamedEvent } from '../../streams/job-watch.ts';
import { jobFailure, OpenAIError } from './errors.ts';
import type { LlmService } from './models.ts';
import { PartialText, replyOf, type Reply } from './upstream.ts';

export interface CompletionHandlers {
  /** New text, in order; only when streaming. */
  readonly onDelta?: (text: string) => void;
  readonly onDone: (reply: Reply) => void;
  readonly onFail: (error: OpenAIError) => void;
}

/**
 * Turns one chat job's timeline into a chat completion: progress reports become text deltas (only
 * what was not sent yet), `completed` the final reply (its text beyond what was streamed is sent
 * first), `failed`/`cancelled` an OpenAI error. If a retried attempt writes a different text than
 * the one already streamed, the stream cannot be taken back: it ends with an error and the job
 * is cancelled.
 */
export class CompletionFollower {
  private sent = '';
  private ended = false;
  private follower: JobFollower | undefined;
  private readonly partial: PartialText;

  constructor(
    private readonly rt: Runtime,
    private readonly jobId: string,
    private readonly service: LlmService,
    private readonly handlers: CompletionHandlers,
    private readonly log: FastifyBaseLogger,
  ) {
    this.partial = new PartialText(service);
  }

  start(): void {
    this.follower = this.rt.watch.follow(this.jobId, undefined, {
      onEvents: (events) => this.take(events),
      onError: (err) => this.log.warn({ err, jobId: this.jobId }, 'reading job timeline failed; retrying on the next event'),
    });
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** The client left: stop following and cancel the job, whose answer nobody will read. */
  abandon(): void {
    if (this.ended) return;
    this.end();
    this.cancelJob();
  }

  private take(events: readonly StreamedEvent[]): void {
    for (const event of events) {
      if (this.ended) return;
      switch (event.type) {
        case 'active':
          this.partial.restart();
          break;
        case 'progress':
          if (this.handlers.onDelta) this.sendUpTo(this.partial.update(event.progress?.data));
          break;
        case 'completed':
          this.complete(event.result);
          break;
        case 'failed':
        case 'cancelled':
          this.fail(jobFailure(event.type, event.error));
          break;
        default:
          break;
      }
    }
  }

  private complete(result: unknown): void {
    let reply: Reply;
    try {
      reply = replyOf(this.service, result);
    } catch (err) {
      this.fail(err instanceof OpenAIError ? err : new OpenAIError(502, { message: String(err), type: 'server_error', param: null, code: null }));
      return;
    }
    if (this.handlers.onDelta) this.sendUpTo(reply.content);
    if (this.ended) return;
    this.end();
    this.handlers.onDone(reply);
  }

  private sendUpTo(text: string): void {
    if (text.startsWith(this.sent)) {
      const delta = text.slice(this.sent.length);
      if (delta === '') return;
      this.sent = text;
      this.handlers.onDelta?.(delta);
    } else if (!this.sent.startsWith(text)) {
      this.fail(
        new OpenAIError(502, {
          message: 'the model was interrupted and retried after part of its reply had been streamed, and the retry wrote a different reply; send the request again',
          type: 'server_error',
          param: null,
          code: 'stream_restarted',
        }),
      );
      this.cancelJob();
    }
  }

  private fail(error: OpenAIError): void {
    if (this.ended) return;
    this.end();
    this.handlers.onFail(error);
  }

  private end(): void {
    this.ended = true;
    this.follower?.stop();
  }

  private cancelJob(): void {
    this.rt.broker.cancel(this.jobId).catch((err: unknown) => this.log.debug({ err, jobId: this.jobId }, 'job had already ended'));
  }
}

import type { RedisClient } from './redis-connection.ts';

/**
 * A message on a worker's own channel: a job it can run was queued (`wake`: claim), a job was leased
 * to it and pushed with its lease token and record (`job`: run it, or give it back), one of its jobs
 * was cancelled, or a push that does not parse (`malformed`: the worker logs it; the lease expires
 * and the reaper takes the job back, as for a crashed worker).
 */
export type WorkerSignal =
  | { type: 'wake' }
  | { type: 'cancel'; jobId: string }
  | { type: 'job'; token: string; record: string[] }
  | { type: 'malformed'; reason: string };

const WAKE = Buffer.from('wake');
const CANCEL = Buffer.from('cancel:');
const JOB = Buffer.from('job:');
const COLON = 0x3a;
const DIGIT_0 = 0x30;
/** Digits of an item's length: 9 is a gigabyte, past any message Redis would carry. */
const MAX_LENGTH_DIGITS = 9;

/**
 * A push (redis/functions/includes/push_job.lua): "job:" then items "<bytes>:<item>", the lease token
 * and then the job record's field, value pairs. Lengths count bytes, so any payload passes unescaped.
 */
function parsePush(message: Buffer): WorkerSignal {
  const items: string[] = [];
  let at = JOB.length;
  while (at < message.length) {
    let length = 0;
    let digits = 0;
    for (; at < message.length && message[at] !== COLON; at++, digits++) {
      const digit = (message[at] as number) - DIGIT_0;
      if (digit < 0 || digit > 9 || digits === MAX_LENGTH_DIGITS) return { type: 'malformed', reason: `bad length of item ${items.length}` };
      length = length * 10 + digit;
    }
    const start = at + 1;
    if (digits === 0 || start + length > message.length) return { type: 'malformed', reason: `item ${items.length} is cut short` };
    items.push(message.toString('utf8', start, start + length));
    at = start + length;
  }
  const [token, ...record] = items;
  if (!token || record.length === 0 || record.length % 2 !== 0) return { type: 'malformed', reason: 'no lease token, or an odd record' };
  return { type: 'job', token, record };
}

export function parseWorkerSignal(message: Buffer): WorkerSignal | undefined {
  if (message.equals(WAKE)) return { type: 'wake' };
  const prefix = (p: Buffer) => message.length >= p.length && message.compare(p, 0, p.length, 0, p.length) === 0;
  if (prefix(JOB)) return parsePush(message);
  if (prefix(CANCEL)) return { type: 'cancel', jobId: message.toString('utf8', CANCEL.length) };
  return undefined;
}

/** One subscriber connection shared by every worker of a process, routing by channel. */
export class WorkerSignals {
  private readonly handlers = new Map<string, (signal: WorkerSignal) => void>();

  constructor(private readonly subscriber: RedisClient) {
    // Buffers, not strings: a push's item lengths count bytes.
    subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      const signal = parseWorkerSignal(message);
      if (signal) this.handlers.get(channel.toString())?.(signal);
    });
  }

  async listen(channel: string, handler: (signal: WorkerSignal) => void): Promise<() => Promise<void>> {
    this.handlers.set(channel, handler);
    await this.subscriber.subscribe(channel);
    // The handler goes only once Redis confirmed the unsubscribe: a push sent before it still
    // reaches its worker (which gives it back), rather than waiting for its lease to expire.
    return async () => {
      await this.subscriber.unsubscribe(channel);
      this.handlers.delete(channel);
    };
  }

  async close(): Promise<void> {
    this.handlers.clear();
    this.subscriber.disconnect();
  }
}

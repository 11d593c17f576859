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

class Malformed extends Error {}

/**
 * Reads the MessagePack that Redis' cmsgpack writes for a push: strings (and binary), integers and
 * floats (read as their decimal strings, as the job hash stores them), and arrays of those. Anything
 * else, or a value running past the end, is Malformed.
 */
class PackReader {
  private at: number;

  constructor(
    private readonly buf: Buffer,
    at: number,
  ) {
    this.at = at;
  }

  get done(): boolean {
    return this.at === this.buf.length;
  }

  private take(bytes: number): number {
    const start = this.at;
    if (start + bytes > this.buf.length) throw new Malformed('a value runs past the end');
    this.at += bytes;
    return start;
  }

  private byte(): number {
    return this.buf[this.take(1)] as number;
  }

  private text(length: number): string {
    const start = this.take(length);
    return this.buf.toString('utf8', start, start + length);
  }

  /** An array's length: each element takes a byte at least, so no more than the bytes left. */
  arrayLength(): number {
    const tag = this.byte();
    let length: number;
    if (tag >= 0x90 && tag <= 0x9f) length = tag - 0x90;
    else if (tag === 0xdc) length = this.buf.readUInt16BE(this.take(2));
    else if (tag === 0xdd) length = this.buf.readUInt32BE(this.take(4));
    else throw new Malformed(`expected an array, found 0x${tag.toString(16)}`);
    if (length > this.buf.length - this.at) throw new Malformed('an array longer than the message');
    return length;
  }

  /** A string, or a number as its decimal string. */
  scalar(): string {
    const tag = this.byte();
    const b = this.buf;
    if (tag >= 0xa0 && tag <= 0xbf) return this.text(tag - 0xa0);
    if (tag <= 0x7f) return String(tag);
    if (tag >= 0xe0) return String(tag - 0x100);
    switch (tag) {
      case 0xd9:
      case 0xc4:
        return this.text(this.byte());
      case 0xda:
      case 0xc5:
        return this.text(b.readUInt16BE(this.take(2)));
      case 0xdb:
      case 0xc6:
        return this.text(b.readUInt32BE(this.take(4)));
      case 0xcc:
        return String(this.byte());
      case 0xcd:
        return String(b.readUInt16BE(this.take(2)));
      case 0xce:
        return String(b.readUInt32BE(this.take(4)));
      case 0xcf:
        return String(b.readBigUInt64BE(this.take(8)));
      case 0xd0:
        return String(b.readInt8(this.take(1)));
      case 0xd1:
        return String(b.readInt16BE(this.take(2)));
      case 0xd2:
        return String(b.readInt32BE(this.take(4)));
      case 0xd3:
        return String(b.readBigInt64BE(this.take(8)));
      case 0xca:
        return String(b.readFloatBE(this.take(4)));
      case 0xcb:
        return String(b.readDoubleBE(this.take(8)));
      default:
        throw new Malformed(`expected a string or a number, found 0x${tag.toString(16)}`);
    }
  }
}

/**
 * A push (redis/functions/includes/push_job.lua): "job:" then, in MessagePack, the lease token and an
 * array of the job record's field, value pairs. Strings are length-prefixed, so any payload passes
 * unescaped.
 */
function parsePush(message: Buffer): WorkerSignal {
  try {
    const reader = new PackReader(message, JOB.length);
    const token = reader.scalar();
    const record = Array.from({ length: reader.arrayLength() }, () => reader.scalar());
    if (!reader.done) throw new Malformed('bytes after the record');
    if (token === '' || record.length === 0 || record.length % 2 !== 0) throw new Malformed('no lease token, or an odd record');
    return { type: 'job', token, record };
  } catch (err) {
    if (err instanceof Malformed || err instanceof RangeError) return { type: 'malformed', reason: err.message };
    throw err;
  }
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
    // Buffers, not strings: a push is MessagePack.
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

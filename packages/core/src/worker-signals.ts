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

/** MessagePack's str 8/16/32 and bin 8/16/32, by tag: the bytes of their length prefix. */
const TEXT_LENGTH_BYTES = new Map([
  [0xd9, 1],
  [0xc4, 1],
  [0xda, 2],
  [0xc5, 2],
  [0xdb, 4],
  [0xc6, 4],
]);

/** MessagePack's fixed-width numbers, by tag: their bytes and how to read them. */
const NUMBERS = new Map<number, readonly [number, (b: Buffer, at: number) => number | bigint]>([
  [0xcc, [1, (b, at) => b.readUInt8(at)]],
  [0xcd, [2, (b, at) => b.readUInt16BE(at)]],
  [0xce, [4, (b, at) => b.readUInt32BE(at)]],
  [0xcf, [8, (b, at) => b.readBigUInt64BE(at)]],
  [0xd0, [1, (b, at) => b.readInt8(at)]],
  [0xd1, [2, (b, at) => b.readInt16BE(at)]],
  [0xd2, [4, (b, at) => b.readInt32BE(at)]],
  [0xd3, [8, (b, at) => b.readBigInt64BE(at)]],
  [0xca, [4, (b, at) => b.readFloatBE(at)]],
  [0xcb, [8, (b, at) => b.readDoubleBE(at)]],
]);

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
    if (tag >= 0xa0 && tag <= 0xbf) return this.text(tag - 0xa0);
    if (tag <= 0x7f) return String(tag);
    if (tag >= 0xe0) return String(tag - 0x100);
    const lengthBytes = TEXT_LENGTH_BYTES.get(tag);
    if (lengthBytes !== undefined) return this.text(this.buf.readUIntBE(this.take(lengthBytes), lengthBytes));
    const number = NUMBERS.get(tag);
    if (!number) throw new Malformed(`expected a string or a number, found 0x${tag.toString(16)}`);
    const [bytes, read] = number;
    return String(read(this.buf, this.take(bytes)));
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

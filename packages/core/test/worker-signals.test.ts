import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWorkerSignal } from '../src/worker-signals.ts';
import { useRedis } from './helpers.ts';

const redis = useRedis();
let client: Redis;
beforeAll(() => {
  client = new Redis(redis.server().url);
});
afterAll(() => client.disconnect());

/** A push as push_job.lua writes it, by Redis' own cmsgpack: the token, then the record's strings and numbers. */
async function push(token: string, record: readonly (string | number)[]): Promise<Buffer> {
  const script = `local record = {}
    for i = 2, #ARGV do record[#record + 1] = tonumber(string.match(ARGV[i], '^n(.*)$')) or string.sub(ARGV[i], 2) end
    return 'job:' .. cmsgpack.pack(ARGV[1], record)`;
  const args = record.map((v) => (typeof v === 'number' ? `n${v}` : `s${v}`));
  return (await client.callBuffer('EVAL', script, 0, token, ...args)) as Buffer;
}

describe('worker signals', () => {
  it('reads wake-ups and cancels', () => {
    expect(parseWorkerSignal(Buffer.from('wake'))).toEqual({ type: 'wake' });
    expect(parseWorkerSignal(Buffer.from('cancel:0000000000001-0000000002'))).toEqual({ type: 'cancel', jobId: '0000000000001-0000000002' });
    expect(parseWorkerSignal(Buffer.from('something else'))).toBeUndefined();
  });

  it("reads a push as Redis' cmsgpack writes it, byte for byte, strings of every length and numbers as the hash stores them", async () => {
    const long = (n: number) => `é€😀 ${'x'.repeat(n)}`;
    const record = ['payload', '{"t":"é€😀 a:1"}', 'short', '', 'fixstr', long(1), 'str8', long(100), 'str16', long(1_000), 'str32', long(70_000), 'id', '0000000000001-0000000002'];
    const numbers = ['updatedAt', 1_712_345_678_901, 'attempts', 1, 'big', 300, 'negative', -5, 'fraction', 0.5];
    const signal = parseWorkerSignal(await push('tok', [...record, ...numbers]));
    expect(signal).toEqual({ type: 'job', token: 'tok', record: [...record, 'updatedAt', '1712345678901', 'attempts', '1', 'big', '300', 'negative', '-5', 'fraction', '0.5'] });
  });

  it.each([
    ['no array', Buffer.from('job:\xa3tok', 'latin1')],
    ['a string cut short', Buffer.from('job:\xa3tok\x92\xa2id\xa5abc', 'latin1')],
    ['an array longer than the message', Buffer.from('job:\xa3tok\xdd\xff\xff\xff\xff', 'latin1')],
    ['bytes after the record', Buffer.from('job:\xa3tok\x92\xa2id\xa1x\x00', 'latin1')],
    ['a map for a value', Buffer.from('job:\xa3tok\x92\xa2id\x80', 'latin1')],
  ])('calls a push with %s malformed', (_name, message) => {
    expect(parseWorkerSignal(message)).toMatchObject({ type: 'malformed' });
  });

  it.each([
    ['an odd record', ['id']],
    ['no record', []],
  ])('calls a push with %s malformed', async (_name, record) => {
    expect(parseWorkerSignal(await push('tok', record))).toMatchObject({ type: 'malformed' });
  });
});

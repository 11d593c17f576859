import { describe, expect, it } from 'vitest';
import { parseWorkerSignal } from '../src/worker-signals.ts';

/** A push as push_job.lua writes it: "job:" then "<bytes>:<item>" for the token and each field and value. */
function push(items: readonly string[]): Buffer {
  return Buffer.from(`job:${items.map((item) => `${Buffer.byteLength(item)}:${item}`).join('')}`);
}

describe('worker signals', () => {
  it('reads wake-ups and cancels', () => {
    expect(parseWorkerSignal(Buffer.from('wake'))).toEqual({ type: 'wake' });
    expect(parseWorkerSignal(Buffer.from('cancel:0000000000001-0000000002'))).toEqual({ type: 'cancel', jobId: '0000000000001-0000000002' });
    expect(parseWorkerSignal(Buffer.from('something else'))).toBeUndefined();
  });

  it('reads a pushed job byte for byte, whatever its values hold', () => {
    const record = ['payload', '{"t":"é€😀 a:1 5:x"}', 'id', '0000000000001-0000000002', 'empty', ''];
    expect(parseWorkerSignal(push(['tok', ...record]))).toEqual({ type: 'job', token: 'tok', record });
  });

  it.each([
    ['a length that is not a number', Buffer.from('job:3x:tok')],
    ['an item cut short', Buffer.from('job:3:tok9:abc')],
    ['a missing length', Buffer.from('job::tok')],
    ['an odd record', push(['tok', 'id'])],
    ['no record', push(['tok'])],
    ['no token', push(['', 'id', 'x'])],
  ])('calls a push with %s malformed', (_name, message) => {
    expect(parseWorkerSignal(message)).toMatchObject({ type: 'malformed' });
  });
});

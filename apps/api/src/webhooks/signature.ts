import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header carrying `t=<unix ms>,v1=<hex HMAC-SHA256 of "<t>.<body>">`; the timestamp lets receivers reject replays. */
export const SIGNATURE_HEADER = 'conveyor-signature';

export function sign(secret: string, body: string, timestamp = Date.now()): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

/** What a webhook receiver runs: true when `header` signs `body` with `secret` within `toleranceMs` of now. */
export function verifySignature(secret: string, header: string, body: string, toleranceMs = 5 * 60_000, now = Date.now()): boolean {
  const match = /^t=(\d{1,16}),v1=([a-f0-9]{64})$/.exec(header);
  if (!match) return false;
  const timestamp = Number(match[1]);
  if (Math.abs(now - timestamp) > toleranceMs) return false;
  const expected = Buffer.from(sign(secret, body, timestamp).slice(-64), 'hex');
  return timingSafeEqual(expected, Buffer.from(match[2] as string, 'hex'));
}

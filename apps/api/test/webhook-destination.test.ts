import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNonPublicAddress, WebhookDestinationRefused, WebhookDestinations } from '../src/webhooks/destination.ts';
import { postJson } from '../src/webhooks/post-json.ts';

describe('isNonPublicAddress', () => {
  it.each([
    '127.0.0.1', '127.255.0.9', '10.0.0.1', '172.16.5.4', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1',
    '0.0.0.0', '224.0.0.1', '255.255.255.255', '198.18.0.1', '::1', '::', 'fe80::1', 'fd12:3456::1', 'ff02::1', '::ffff:10.0.0.1', '::ffff:7f00:1',
  ])('refuses %s', (address) => expect(isNonPublicAddress(address)).toBe(true));

  it.each(['8.8.8.8', '93.184.216.34', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('allows %s', (address) =>
    expect(isNonPublicAddress(address)).toBe(false),
  );

  it('is false for anything that is not an IP address (names are judged after DNS)', () => {
    expect(isNonPublicAddress('example.com')).toBe(false);
  });
});

describe('WebhookDestinations', () => {
  let receiver: Server;
  let port: number;
  let hits = 0;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      hits++;
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    port = (receiver.address() as AddressInfo).port;
  });
  afterAll(() => receiver.close());

  const post = (destinations: WebhookDestinations, host: string) =>
    postJson(`http://${host}:${port}/hook`, '{}', { headers: { 'content-type': 'application/json' }, lookup: destinations.lookup, signal: AbortSignal.timeout(5000) });

  it('refuses at connect time a name that resolves to a non-public address, without sending anything', async () => {
    const before = hits;
    await expect(post(new WebhookDestinations(false), 'localhost')).rejects.toBeInstanceOf(WebhookDestinationRefused);
    await expect(post(new WebhookDestinations(false), 'localhost')).rejects.toThrow(/localhost resolves to (127\.0\.0\.1|::1), which is not a public address/);
    expect(hits).toBe(before);
  });

  it('delivers to the same receiver when non-public destinations are allowed (local mode)', async () => {
    const before = hits;
    expect(await post(new WebhookDestinations(true), 'localhost')).toBe(204);
    expect(hits).toBe(before + 1);
  });

  it('judges literal addresses and local names of a URL before any DNS', () => {
    const strict = new WebhookDestinations(false);
    expect(strict.refusal('http://127.0.0.1/x')).toMatch(/127\.0\.0\.1 is loopback, private or reserved/);
    expect(strict.refusal('http://api.localhost/x')).toMatch(/api\.localhost/);
    expect(strict.refusal('http://[::1]:8080/x')).toMatch(/::1/);
    expect(strict.refusal('https://example.com/x')).toBeUndefined();
    expect(new WebhookDestinations(true).refusal('http://127.0.0.1/x')).toBeUndefined();
  });
});

import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Address ranges a webhook must not reach on a multi-tenant server: loopback, private networks,
 * link-local (cloud metadata services live at 169.254.169.254), carrier-grade NAT, multicast and
 * reserved blocks. IPv4-mapped IPv6 addresses are checked against the IPv4 rules by BlockList.
 */
const NON_PUBLIC: readonly [string, number, 'ipv4' | 'ipv6'][] = [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['224.0.0.0', 3, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['64:ff9b:1::', 48, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
];

const blocked = new BlockList();
for (const [network, prefix, family] of NON_PUBLIC) blocked.addSubnet(network, prefix, family);

export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address);
  return family !== 0 && blocked.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/** A webhook whose destination this server refuses; never retried, as asking again cannot help. */
export class WebhookDestinationRefused extends Error {
  readonly code = 'WEBHOOK_DESTINATION_REFUSED';
}

const LOCAL_NAMES = /^(localhost|.*\.localhost)\.?$/i;

/**
 * Where webhooks may go. Local mode allows everything (the receiver is usually on the same
 * laptop); a server refuses non-public destinations so one tenant's webhook cannot probe the
 * network the API runs in. The URL is checked at submit, and every address its host resolves to
 * is checked again at connect time, on the very addresses the request then uses (no DNS rebinding).
 */
export class WebhookDestinations {
  constructor(readonly allowNonPublic: boolean) {}

  /** Why a submitted webhook URL is refused, or undefined; only names that need no DNS are judged here. */
  refusal(url: string): string | undefined {
    if (this.allowNonPublic) return undefined;
    const host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
    if (LOCAL_NAMES.test(host) || isNonPublicAddress(host)) {
      return `must reach a public address: ${host} is loopback, private or reserved, and this server does not deliver webhooks there`;
    }
    return undefined;
  }

  /** A `lookup` for http.request that fails the connection when the host resolves to a refused address. */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) {
        callback(err, '', 0);
        return;
      }
      const refused = this.allowNonPublic ? undefined : addresses.find((a) => isNonPublicAddress(a.address));
      if (refused) {
        callback(new WebhookDestinationRefused(`${hostname} resolves to ${refused.address}, which is not a public address`), '', 0);
        return;
      }
      if (options.all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      else {
        const first = addresses[0] as LookupAddress;
        callback(null, first.address, first.family);
      }
    });
  };
}

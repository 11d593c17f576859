import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { z } from 'zod';
import { ConveyorError } from './errors.ts';

/** A connection to the broker's Redis: one server (directly or through Sentinel), or a Cluster. */
export type RedisClient = Redis | Cluster;

/**
 * Where the broker's Redis is, in the one URL shape the API, machines and the CLI all read from
 * `REDIS_URL`:
 *   redis://[user:password@]host:port[/db]                        one server (rediss:// for TLS)
 *   redis-sentinel://[user:password@]host:port,host:port/<name>     the primary named <name>, found
 *                                                                   through these sentinels
 *   redis-cluster://[user:password@]host:port,host:port            a Redis Cluster, found through
 *                                                                   any of these nodes
 * (`rediss-sentinel://`, `rediss-cluster://` for TLS.) The user and password are the data nodes'.
 */
export type RedisTarget =
  | { readonly kind: 'single'; readonly url: string }
  | { readonly kind: 'sentinel'; readonly name: string; readonly sentinels: readonly HostPort[]; readonly auth: Auth; readonly tls: boolean }
  | { readonly kind: 'cluster'; readonly nodes: readonly HostPort[]; readonly auth: Auth; readonly tls: boolean };

interface HostPort {
  readonly host: string;
  readonly port: number;
}
interface Auth {
  readonly username?: string;
  readonly password?: string;
}

export const REDIS_URL_FORMS =
  'redis://host:port, redis-sentinel://host:port,host:port/<primary name>, or redis-cluster://host:port,host:port';

/** A REDIS_URL that is none of the accepted forms; the message names what is wrong. */
export class RedisUrlError extends ConveyorError {
  constructor(message: string) {
    super('INVALID_REDIS_URL', `${message}; use ${REDIS_URL_FORMS}`);
  }
}

const SCHEME = /^(rediss?)(-sentinel|-cluster)?:\/\/(.*)$/;

function hostPorts(list: string, what: string): HostPort[] {
  return list.split(',').map((entry) => {
    const match = /^([^:/\s]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(entry.trim());
    const port = Number(match?.[2]);
    if (!match?.[1] || !(port > 0 && port < 65536)) throw new RedisUrlError(`"${entry}" in the ${what} list is not host:port`);
    return { host: match[1].replace(/^\[|\]$/g, ''), port };
  });
}

/** Reads a REDIS_URL; throws RedisUrlError naming the problem. */
export function parseRedisUrl(url: string): RedisTarget {
  const match = SCHEME.exec(url.trim());
  if (!match) throw new RedisUrlError(`"${url.split('@').pop()}" is not a Redis URL`);
  const [, scheme = 'redis', topology, rest = ''] = match;
  if (!topology) return { kind: 'single', url };
  const at = rest.lastIndexOf('@');
  const [user = '', password] = at >= 0 ? rest.slice(0, at).split(/:(.*)/s) : [];
  const auth: Auth = { ...(user ? { username: decodeURIComponent(user) } : {}), ...(password ? { password: decodeURIComponent(password) } : {}) };
  const location = at >= 0 ? rest.slice(at + 1) : rest;
  const tls = scheme === 'rediss';
  if (topology === '-cluster') {
    const nodes = location.replace(/\/$/, '');
    if (!nodes) throw new RedisUrlError('redis-cluster:// lists no node');
    return { kind: 'cluster', nodes: hostPorts(nodes, 'cluster node'), auth, tls };
  }
  const slash = location.indexOf('/');
  const name = slash >= 0 ? location.slice(slash + 1) : '';
  if (!name || name.includes('/')) throw new RedisUrlError('redis-sentinel:// needs the primary\'s name after the sentinels, e.g. redis-sentinel://10.0.0.1:26379,10.0.0.2:26379/mymaster');
  return { kind: 'sentinel', name, sentinels: hostPorts(location.slice(0, slash), 'sentinel'), auth, tls };
}

/** A zod schema of REDIS_URL for each app's env: any of the accepted forms. */
export const RedisUrl = z.string().superRefine((url, ctx) => {
  try {
    parseRedisUrl(url);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

export interface RedisClientOptions {
  readonly lazyConnect?: boolean;
  readonly enableAutoPipelining?: boolean;
  readonly maxRetriesPerRequest?: number | null;
}

/**
 * Opens a client for any REDIS_URL form. Through Sentinel, the client asks the sentinels for the
 * current primary whenever it (re)connects, so a failover is followed on its own; a Cluster client
 * follows slot moves and a replica's promotion the same way.
 */
export function createRedisClient(url: string, options: RedisClientOptions = {}): RedisClient {
  const target = parseRedisUrl(url);
  if (target.kind === 'single') return new Redis(url, options);
  const tls = target.tls ? { tls: {} } : {};
  if (target.kind === 'sentinel') {
    const redis: RedisOptions = { ...options, ...target.auth, ...tls, sentinels: [...target.sentinels], name: target.name };
    if (target.tls) redis.enableTLSForSentinelMode = true;
    return new Redis(redis);
  }
  const { lazyConnect, enableAutoPipelining, maxRetriesPerRequest } = options;
  const cluster: ClusterOptions = {
    lazyConnect,
    enableAutoPipelining,
    redisOptions: { ...target.auth, ...tls, ...(maxRetriesPerRequest !== undefined ? { maxRetriesPerRequest } : {}) },
  };
  return new Cluster([...target.nodes], cluster);
}

/** The primaries a command that must reach every node (FUNCTION LOAD) is sent to. */
export function primariesOf(client: RedisClient): Redis[] {
  return client instanceof Cluster ? client.nodes('master') : [client];
}

/** Another connection to the same Redis (a blocking read, a subscriber, a WATCH), one server or Cluster alike. */
export function duplicateClient(client: RedisClient, options: { readonly enableAutoPipelining?: boolean } = {}): RedisClient {
  return client instanceof Cluster ? client.duplicate([], options) : client.duplicate(options);
}

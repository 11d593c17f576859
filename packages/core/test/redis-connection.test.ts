import { describe, expect, it } from 'vitest';
import { parseRedisUrl, RedisUrl } from '../src/index.ts';

describe('REDIS_URL forms', () => {
  it('reads one server, Sentinel and Cluster URLs', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6380/2')).toEqual({ kind: 'single', url: 'redis://127.0.0.1:6380/2' });
    expect(parseRedisUrl('redis-sentinel://:s3cr%40t@10.0.0.1:26379,10.0.0.2:26380/conveyor')).toEqual({
      kind: 'sentinel',
      name: 'conveyor',
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26380 },
      ],
      auth: { password: 's3cr@t' },
      tls: false,
    });
    expect(parseRedisUrl('rediss-cluster://app:pw@a.example:7000,b.example:7001')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'a.example', port: 7000 },
        { host: 'b.example', port: 7001 },
      ],
      auth: { username: 'app', password: 'pw' },
      tls: true,
    });
  });

  it('says what is wrong and lists the accepted forms', () => {
    const issues = (url: string) => RedisUrl.safeParse(url).error?.issues.map((i) => i.message) ?? [];
    expect(issues('http://x:1')[0]).toMatch(/is not a Redis URL; use redis:\/\/host:port, redis-sentinel:\/\/.*redis-cluster:\/\//);
    expect(issues('redis-sentinel://10.0.0.1:26379')[0]).toMatch(/needs the primary's name/);
    expect(issues('redis-cluster://10.0.0.1')[0]).toMatch(/"10.0.0.1" in the cluster node list is not host:port/);
    expect(issues('redis-cluster://')[0]).toMatch(/lists no node/);
    // A password is never echoed back in an error.
    expect(issues('http://user:hunter2@x:1')[0]).not.toContain('hunter2');
  });
});

import { describe, expect, it } from 'vitest';
import { loadConfig, websocketUrl } from '../src/config.ts';
import { fakeFetch, on } from './fake-api.ts';

const at = (href: string) => new URL(href) as unknown as Location;

describe('run-time configuration', () => {
  it('takes the API URL from ?api= first', async () => {
    const fetcher = fakeFetch(on('GET', '/config.json', () => ({ status: 200, body: { apiUrl: 'https://other.example' } })));
    expect(await loadConfig(at('https://monitor.example/?api=https://api.example/conveyor/'), fetcher)).toEqual({ apiUrl: 'https://api.example/conveyor', source: 'query' });
    expect(fetcher.calls).toHaveLength(0);
  });

  it('then from config.json next to the page', async () => {
    const fetcher = fakeFetch(on('GET', '/monitor/config.json', () => ({ status: 200, body: { apiUrl: 'https://api.example' } })));
    expect(await loadConfig(at('https://cdn.example/monitor/index.html'), fetcher)).toEqual({ apiUrl: 'https://api.example', source: 'config.json' });
  });

  it('falls back to the page origin when there is no config.json (served by the API, or the dev proxy)', async () => {
    expect(await loadConfig(at('http://127.0.0.1:8080/monitor/#/jobs'), fakeFetch())).toEqual({ apiUrl: 'http://127.0.0.1:8080', source: 'page origin' });
  });

  it('names the field and the fix when config.json or ?api= is wrong', async () => {
    const fetcher = fakeFetch(on('GET', '/config.json', () => ({ status: 200, body: { apiUrl: 'not a url', extra: 1 } })));
    await expect(loadConfig(at('https://m.example/'), fetcher)).rejects.toThrow(/config.json: apiUrl must be an absolute URL/);
    await expect(loadConfig(at('https://m.example/?api=ftp://x'), fakeFetch())).rejects.toThrow(/\?api= query parameter: "ftp:\/\/x" must be an http\(s\) URL/);
  });

  it('derives ws:// and wss:// URLs', () => {
    expect(websocketUrl('http://127.0.0.1:8080', '/ws/monitor')).toBe('ws://127.0.0.1:8080/ws/monitor');
    expect(websocketUrl('https://api.example/c', '/ws/monitor')).toBe('wss://api.example/c/ws/monitor');
  });
});

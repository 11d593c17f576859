import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';

export interface PostOptions {
  readonly headers: Record<string, string>;
  /** Resolves the host; the request connects only to what this returns. */
  readonly lookup: LookupFunction;
  readonly signal: AbortSignal;
}

/**
 * POSTs a body and resolves with the answer's status, discarding its body. Redirects are not
 * followed: a receiver answers for itself. Built on node:http rather than fetch so the connection
 * uses the caller's `lookup`.
 */
export async function postJson(url: string, body: string, options: PostOptions): Promise<number> {
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return await new Promise<number>((resolve, reject) => {
    const req = request(
      target,
      {
        method: 'POST',
        headers: { ...options.headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: options.lookup,
        signal: options.signal,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

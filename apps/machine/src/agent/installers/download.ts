import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, link, mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { ChecksumMismatchError } from '../errors.ts';

export interface DownloadRequest {
  readonly url: string;
  readonly sha256: string;
  /** Where the file ends up. */
  readonly dest: string;
  /** Content-addressed store: `<cacheDir>/<sha256>` once verified, `.part` while downloading. */
  readonly cacheDir: string;
  readonly signal: AbortSignal;
  readonly onProgress?: (done: number, total: number | undefined) => void;
}

export interface DownloadResult {
  readonly bytes: number;
  /** Bytes that were already on disk from an earlier, interrupted attempt. */
  readonly resumedFrom: number;
  readonly fromCache: boolean;
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

async function hashFile(path: string, hash: Hash = createHash('sha256')): Promise<Hash> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash;
}

async function place(cached: string, dest: string): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  const tmp = `${dest}.${process.pid}.tmp`;
  await rm(tmp, { force: true });
  // A hard link costs no space; across file systems the file is copied.
  await link(cached, tmp).catch(() => copyFile(cached, tmp));
  await rename(tmp, dest);
}

/** Streams the body into the part file (appending after `offset`), hashing as it goes. */
async function receive(response: Response, part: string, offset: number, hash: Hash, req: DownloadRequest): Promise<void> {
  const length = Number(response.headers.get('content-length'));
  const total = Number.isFinite(length) && length > 0 ? offset + length : undefined;
  let done = offset;
  req.onProgress?.(done, total);
  const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
  await pipeline(
    body,
    async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        hash.update(chunk);
        done += chunk.length;
        req.onProgress?.(done, total);
        yield chunk;
      }
    },
    createWriteStream(part, { flags: offset > 0 ? 'a' : 'w' }),
    { signal: req.signal },
  );
}

/**
 * Fetches `url` into the cache, resuming a `.part` left by an interrupted attempt with an HTTP
 * Range request, verifies the sha256 of the whole file, then places it at `dest`. A mismatch
 * deletes the partial file and throws ChecksumMismatchError.
 */
export async function download(req: DownloadRequest): Promise<DownloadResult> {
  const sha = req.sha256.toLowerCase();
  await mkdir(req.cacheDir, { recursive: true });
  const cached = join(req.cacheDir, sha);
  const cachedSize = await sizeOf(cached);
  if (cachedSize !== undefined && (await hashFile(cached)).digest('hex') === sha) {
    await place(cached, req.dest);
    return { bytes: cachedSize, resumedFrom: cachedSize, fromCache: true };
  }
  const part = `${cached}.part`;
  const offset = (await sizeOf(part)) ?? 0;
  const response = await fetch(req.url, { signal: req.signal, headers: offset > 0 ? { Range: `bytes=${offset}-` } : {} });
  let hash = createHash('sha256');
  let resumedFrom = 0;
  if (response.status === 416 && offset > 0) {
    // Nothing left to fetch: the part already holds the whole file, and the checksum decides.
    await response.body?.cancel();
    hash = await hashFile(part);
    resumedFrom = offset;
  } else {
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      throw new Error(`GET ${req.url} answered ${response.status} ${response.statusText}`);
    }
    if (response.status === 206) {
      const start = Number(/^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '')?.[1]);
      if (start !== offset) {
        await response.body.cancel();
        throw new Error(`GET ${req.url} resumed at byte ${start}, expected ${offset}`);
      }
      hash = await hashFile(part);
      resumedFrom = offset;
    }
    await receive(response, part, resumedFrom, hash, req);
  }
  const actual = hash.digest('hex');
  if (actual !== sha) {
    await rm(part, { force: true });
    throw new ChecksumMismatchError(req.url, sha, actual);
  }
  await rename(part, cached);
  await place(cached, req.dest);
  return { bytes: (await sizeOf(req.dest)) ?? 0, resumedFrom, fromCache: false };
}

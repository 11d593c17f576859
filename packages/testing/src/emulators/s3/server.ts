import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { crc32 } from 'node:zlib';
import { readBody, startHttpServer, type RunningHttpServer } from '../http-server.ts';
import { requestIdHeaders, sendS3Error } from './xml-errors.ts';

export interface S3EmulatorOptions {
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  readonly region?: string;
  /** Buckets that exist from the start; any other bucket answers `NoSuchBucket`. */
  readonly buckets?: readonly string[];
}

export interface StoredObject {
  readonly data: Buffer;
  readonly contentType: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly etag: string;
  readonly lastModified: Date;
  /** Base64 CRC32 the client sent (`x-amz-checksum-crc32`), echoed back when asked for checksums. */
  readonly crc32?: string;
}

/**
 * The request's SigV4 `Authorization` header: algorithm, credential scope, signed headers and a
 * signature. The emulator checks the header is present, well formed, names the configured access
 * key and region, and signs host, x-amz-date and x-amz-content-sha256. It does NOT recompute the
 * signature: that would re-implement SigV4 for a test double, and the real SDK computes it anyway.
 */
const SIGV4 = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;
const UNHASHED = new Set(['UNSIGNED-PAYLOAD', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD']);

function crc32Base64(data: Buffer): string {
  const buf = Buffer.alloc(4);
  buf.writeUInt32BE(crc32(data));
  return buf.toString('base64');
}

/**
 * A small S3-compatible server: PutObject, GetObject, HeadObject and DeleteObject with path-style
 * addressing (`/<bucket>/<key>`), S3's XML error documents, ETags, user metadata and CRC32
 * checksums. The real `@aws-sdk/client-s3` talks to it with `forcePathStyle: true`.
 */
export class S3Emulator {
  /** `bucket` → `key` → object, for tests to look behind the API. */
  readonly buckets = new Map<string, Map<string, StoredObject>>();
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  readonly region: string;
  private server: RunningHttpServer | undefined;

  private constructor(options: S3EmulatorOptions) {
    this.credentials = { accessKeyId: options.accessKeyId ?? 'AKIAEMULATOR', secretAccessKey: options.secretAccessKey ?? 'emulator-secret' };
    this.region = options.region ?? 'us-east-1';
    for (const bucket of options.buckets ?? ['conveyor']) this.buckets.set(bucket, new Map());
  }

  static async start(options: S3EmulatorOptions = {}): Promise<S3Emulator> {
    const emulator = new S3Emulator(options);
    emulator.server = await startHttpServer((req, res) => emulator.handle(req, res));
    return emulator;
  }

  get endpoint(): string {
    if (!this.server) throw new Error('S3Emulator is not running');
    return this.server.origin;
  }

  async stop(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://s3.local');
    const [bucketPart = '', ...keyParts] = url.pathname.slice(1).split('/');
    const bucket = decodeURIComponent(bucketPart);
    const key = keyParts.map(decodeURIComponent).join('/');
    if (!this.authorized(req, res, method)) return;
    const objects = this.buckets.get(bucket);
    if (!objects) {
      sendS3Error(res, method, 404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
      return;
    }
    const supported = ['PUT', 'GET', 'HEAD', 'DELETE'].includes(method) && key !== '' && [...url.searchParams.keys()].every((q) => q === 'x-id');
    if (!supported) {
      sendS3Error(res, method, 501, 'NotImplemented', 'A header you provided implies functionality that is not implemented');
      return;
    }
    if (method === 'PUT') {
      await this.put(req, res, objects, key);
      return;
    }
    if (method === 'DELETE') {
      objects.delete(key);
      res.writeHead(204, requestIdHeaders()).end();
      return;
    }
    const object = objects.get(key);
    if (!object) {
      sendS3Error(res, method, 404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
      return;
    }
    const headers: Record<string, string | number> = {
      ...requestIdHeaders(),
      'content-type': object.contentType,
      'content-length': object.data.length,
      etag: object.etag,
      'last-modified': object.lastModified.toUTCString(),
      'accept-ranges': 'bytes',
    };
    for (const [name, value] of Object.entries(object.metadata)) headers[`x-amz-meta-${name}`] = value;
    if (object.crc32 && req.headers['x-amz-checksum-mode'] === 'ENABLED') {
      headers['x-amz-checksum-crc32'] = object.crc32;
      headers['x-amz-checksum-type'] = 'FULL_OBJECT';
    }
    res.writeHead(200, headers).end(method === 'GET' ? object.data : undefined);
  }

  private authorized(req: IncomingMessage, res: ServerResponse, method: string): boolean {
    const match = SIGV4.exec(req.headers.authorization ?? '');
    if (!match || !req.headers['x-amz-date'] || !req.headers['x-amz-content-sha256']) {
      sendS3Error(res, method, 403, 'AccessDenied', 'Access Denied');
      return false;
    }
    const [, accessKeyId, , region, signedHeaders = ''] = match;
    if (accessKeyId !== this.credentials.accessKeyId) {
      sendS3Error(res, method, 403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', { AWSAccessKeyId: accessKeyId ?? '' });
      return false;
    }
    if (region !== this.region) {
      sendS3Error(res, method, 400, 'AuthorizationHeaderMalformed', `The authorization header is malformed; the region '${region}' is wrong; expecting '${this.region}'`, { Region: this.region });
      return false;
    }
    const signed = signedHeaders.split(';');
    if (!['host', 'x-amz-date', 'x-amz-content-sha256'].every((h) => signed.includes(h))) {
      sendS3Error(res, method, 403, 'AccessDenied', 'There were headers present in the request which were not signed');
      return false;
    }
    return true;
  }

  private async put(req: IncomingMessage, res: ServerResponse, objects: Map<string, StoredObject>, key: string): Promise<void> {
    if (String(req.headers['content-encoding'] ?? '').includes('aws-chunked')) {
      sendS3Error(res, 'PUT', 501, 'NotImplemented', 'aws-chunked uploads are not implemented by this emulator; send a body of known length');
      return;
    }
    const data = await readBody(req);
    const declared = String(req.headers['x-amz-content-sha256']);
    const actual = createHash('sha256').update(data).digest('hex');
    if (!UNHASHED.has(declared) && declared !== actual) {
      sendS3Error(res, 'PUT', 400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", {
        ClientComputedContentSHA256: declared,
        S3ComputedContentSHA256: actual,
      });
      return;
    }
    const sentCrc = req.headers['x-amz-checksum-crc32'];
    if (typeof sentCrc === 'string' && sentCrc !== crc32Base64(data)) {
      sendS3Error(res, 'PUT', 400, 'BadDigest', 'The CRC32 you specified did not match the calculated checksum.');
      return;
    }
    const metadata: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (name.startsWith('x-amz-meta-') && typeof value === 'string') metadata[name.slice('x-amz-meta-'.length)] = value;
    }
    const etag = `"${createHash('md5').update(data).digest('hex')}"`;
    objects.set(key, {
      data,
      contentType: req.headers['content-type'] ?? 'binary/octet-stream',
      metadata,
      etag,
      lastModified: new Date(),
      ...(typeof sentCrc === 'string' ? { crc32: sentCrc } : {}),
    });
    res.writeHead(200, { ...requestIdHeaders(), etag, ...(typeof sentCrc === 'string' ? { 'x-amz-checksum-crc32': sentCrc } : {}) }).end();
  }
}

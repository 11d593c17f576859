import { ConveyorError } from '../errors.ts';
import type { ArtifactRef } from '../schemas/artifact.ts';

export { ArtifactRef } from '../schemas/artifact.ts';

export interface StoredArtifact extends ArtifactRef {
  readonly data: Buffer;
}

/**
 * Byte storage for job outputs (screenshots, PDFs, images). Implementations: LocalArtifactStore
 * (a directory); object stores plug in behind the same four calls. Keys are `/`-separated
 * segments checked by `checkArtifactKey`, so no key can climb out of the store or its scope.
 */
export interface ArtifactStore {
  /** Writes (or replaces) the artifact at `key`; a retried attempt overwrites its earlier output. */
  put(key: string, data: Uint8Array, contentType: string): Promise<ArtifactRef>;
  get(key: string): Promise<StoredArtifact | null>;
  stat(key: string): Promise<ArtifactRef | null>;
  /** Returns whether something was there to delete. */
  delete(key: string): Promise<boolean>;
  /** Releases connections (an S3 client's sockets); the store is unusable afterwards. */
  close?(): Promise<void>;
}

/** A key or content type a store refuses: a bug in the caller, so retrying cannot help. */
export class ArtifactKeyError extends ConveyorError {
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super('INVALID_ARTIFACT_KEY', `artifact key ${JSON.stringify(key.slice(0, 300))} ${reason}`);
  }
}

const SEGMENT = /^[A-Za-z0-9._~@+%=-]+$/;
const MAX_KEY_LENGTH = 1024;
const CONTENT_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*(\s*;\s*[a-z0-9_-]+=[A-Za-z0-9_.-]+)*$/i;

/**
 * Rejects anything that is not plain relative segments: absolute paths, `.`/`..`, empty segments,
 * backslashes and control characters. Applied to every key before it reaches a backend.
 */
export function checkArtifactKey(key: string): string {
  if (key.length === 0) throw new ArtifactKeyError(key, 'is empty');
  if (key.length > MAX_KEY_LENGTH) throw new ArtifactKeyError(key, `is longer than ${MAX_KEY_LENGTH} characters`);
  if (key.startsWith('/')) throw new ArtifactKeyError(key, 'is absolute; keys are relative to the store');
  for (const segment of key.split('/')) {
    if (segment === '') throw new ArtifactKeyError(key, 'has an empty segment');
    if (segment === '.' || segment === '..') throw new ArtifactKeyError(key, 'contains "." or ".." segments');
    if (!SEGMENT.test(segment)) throw new ArtifactKeyError(key, 'may contain only letters, digits and . _ ~ @ + % = - between "/"');
  }
  return key;
}

export function checkContentType(contentType: string): string {
  if (contentType.length > 200 || !CONTENT_TYPE.test(contentType)) {
    throw new ArtifactKeyError(contentType, 'is not a content type such as "image/png" (checked as the content type)');
  }
  return contentType;
}

/**
 * A tenant id may contain `/` and be `..`; as a key segment it is percent-encoded so that each
 * tenant is exactly one segment and one tenant's prefix can never cover another's.
 */
export function tenantSegment(tenant: string): string {
  const encoded = encodeURIComponent(tenant);
  return encoded === '.' || encoded === '..' ? encoded.replace(/\./g, '%2E') : encoded;
}

/**
 * A view of a store under a fixed prefix. Keys given to it are relative to the prefix and checked
 * on their own, so `..` cannot leave the scope; the refs it returns carry the full key.
 */
export class ScopedArtifactStore implements ArtifactStore {
  readonly prefix: string;

  constructor(
    private readonly inner: ArtifactStore,
    prefix: string,
  ) {
    this.prefix = checkArtifactKey(prefix);
  }

  private full(key: string): string {
    return `${this.prefix}/${checkArtifactKey(key)}`;
  }

  async put(key: string, data: Uint8Array, contentType: string): Promise<ArtifactRef> {
    return await this.inner.put(this.full(key), data, contentType);
  }

  async get(key: string): Promise<StoredArtifact | null> {
    return await this.inner.get(this.full(key));
  }

  async stat(key: string): Promise<ArtifactRef | null> {
    return await this.inner.stat(this.full(key));
  }

  async delete(key: string): Promise<boolean> {
    return await this.inner.delete(this.full(key));
  }
}

/** The store a tenant's jobs see: keys `<jobId>/<name>` land at `<tenant>/<jobId>/<name>`. */
export function tenantArtifacts(store: ArtifactStore, tenant: string): ScopedArtifactStore {
  return new ScopedArtifactStore(store, tenantSegment(tenant));
}

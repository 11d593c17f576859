import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { checkArtifactKey, checkContentType, type ArtifactRef, type ArtifactStore, type StoredArtifact } from './artifact-store.ts';

const Meta = z.object({ contentType: z.string(), size: z.number().int().min(0), sha256: z.string() });

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/**
 * Artifacts in a local directory: bytes under `objects/<key>`, metadata under `meta/<key>.json`
 * (separate trees, so no artifact name can collide with metadata). Files are written to `tmp/`
 * and renamed into place, so a reader never sees half an artifact.
 */
export class LocalArtifactStore implements ArtifactStore {
  readonly rootDir: string;

  constructor(rootDir: string) {
    this.rootDir = resolve(rootDir);
  }

  private paths(key: string): { data: string; meta: string } {
    checkArtifactKey(key);
    return { data: join(this.rootDir, 'objects', key), meta: join(this.rootDir, 'meta', `${key}.json`) };
  }

  private async writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
    const tmpDir = join(this.rootDir, 'tmp');
    const tmp = join(tmpDir, randomUUID());
    await mkdir(tmpDir, { recursive: true });
    await mkdir(dirname(path), { recursive: true });
    try {
      await writeFile(tmp, data);
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async put(key: string, data: Uint8Array, contentType: string): Promise<ArtifactRef> {
    const paths = this.paths(key);
    checkContentType(contentType);
    const meta = { contentType, size: data.byteLength, sha256: createHash('sha256').update(data).digest('hex') };
    await this.writeAtomic(paths.data, data);
    await this.writeAtomic(paths.meta, JSON.stringify(meta));
    return { key, ...meta };
  }

  async stat(key: string): Promise<ArtifactRef | null> {
    const paths = this.paths(key);
    try {
      return { key, ...Meta.parse(JSON.parse(await readFile(paths.meta, 'utf8'))) };
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async get(key: string): Promise<StoredArtifact | null> {
    const ref = await this.stat(key);
    if (!ref) return null;
    try {
      const data = await readFile(this.paths(key).data);
      // Size and hash come from the bytes read, so a concurrent overwrite cannot pair new bytes with old metadata.
      return { ...ref, data, size: data.byteLength, sha256: createHash('sha256').update(data).digest('hex') };
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<boolean> {
    const paths = this.paths(key);
    const removed = await Promise.all(
      [paths.meta, paths.data].map((p) =>
        unlink(p).then(
          () => true,
          (err: unknown) => {
            if (isMissing(err)) return false;
            throw err;
          },
        ),
      ),
    );
    return removed.some(Boolean);
  }
}

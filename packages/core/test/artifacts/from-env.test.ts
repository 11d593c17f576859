import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createArtifactStore, LocalArtifactStore, parseArtifactEnv, S3ArtifactStore, ValidationError } from '../../src/index.ts';

describe('artifact store from the environment', () => {
  it('defaults to a local directory store that round-trips bytes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cv-art-'));
    const store = createArtifactStore(parseArtifactEnv({ ARTIFACT_DIR: dir }));
    expect(store).toBeInstanceOf(LocalArtifactStore);
    await store.put('t/j/a.txt', Buffer.from('hi'), 'text/plain');
    expect((await store.get('t/j/a.txt'))?.data.toString()).toBe('hi');
  });

  it('builds an S3 store and names the variables a partial S3 setup lacks', async () => {
    const store = createArtifactStore(parseArtifactEnv({ ARTIFACT_STORE: 's3', S3_BUCKET: 'conveyor', S3_ENDPOINT: 'http://127.0.0.1:9' }));
    expect(store).toBeInstanceOf(S3ArtifactStore);
    await store.close?.();
    const error = (() => {
      try {
        parseArtifactEnv({ ARTIFACT_STORE: 's3', S3_ACCESS_KEY_ID: 'k' });
      } catch (err) {
        expect(err).toBeInstanceOf(ValidationError);
        return err as ValidationError;
      }
    })();
    expect(error?.issues.map((i) => i.path).sort()).toEqual(['S3_BUCKET', 'S3_SECRET_ACCESS_KEY']);
  });
});

export {
  ArtifactKeyError,
  checkArtifactKey,
  ScopedArtifactStore,
  tenantArtifacts,
  tenantSegment,
  type ArtifactRef,
  type ArtifactStore,
  type StoredArtifact,
} from './artifact-store.ts';
export { LocalArtifactStore } from './local-store.ts';
export { ArtifactStoreError, S3ArtifactStore, S3ArtifactStoreOptions } from './s3-store.ts';
export { ArtifactEnv, createArtifactStore, parseArtifactEnv } from './from-env.ts';

import { z } from 'zod';

/** What a stored artifact is: the record a job result carries instead of the bytes. */
export const ArtifactRef = z.object({
  /** Full key in the store, `<tenant>/<jobId>/<name>`: what results carry and the API resolves. */
  key: z.string(),
  size: z.number(),
  contentType: z.string(),
  /** Hex SHA-256 of the bytes, so a client can verify what it downloaded. */
  sha256: z.string(),
  /** Where a client may fetch the bytes directly, when the store can say (e.g. a presigned S3 URL). */
  url: z.string().optional(),
});
export type ArtifactRef = Readonly<z.infer<typeof ArtifactRef>>;

import {
  ArtifactKeyError,
  checkArtifactKey,
  createArtifactStore,
  parseArtifactEnv,
  tenantSegment,
  ValidationError,
  type ArtifactEnv,
  type ArtifactStore,
} from '@conveyor/core';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { ConfigError } from '../env.ts';
import { ApiError } from '../errors.ts';
import { parsePart } from '../http/parse.ts';

export interface ArtifactRouteOptions {
  /** The store to serve; by default the one ARTIFACT_STORE / ARTIFACT_DIR / S3_* name, exactly as the workers read them. */
  readonly store?: ArtifactStore;
}

const NoQuery = z.object({}).strict();

/**
 * Artifacts may be HTML a job rendered from untrusted input; served from the API's own origin it
 * must not run scripts there or be sniffed into something else.
 */
const SAFE_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'",
  // Retried attempts overwrite their outputs: revalidate with the ETag instead of caching blindly.
  'cache-control': 'private, no-cache',
};

/** The artifact settings shared with the workers; a bad one stops the API at start, naming the variable. */
function storeFromEnv(env: NodeJS.ProcessEnv): ArtifactStore {
  let config: ArtifactEnv;
  try {
    config = parseArtifactEnv(env);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    throw new ConfigError(err.issues.map((i) => `${i.path}=${JSON.stringify(env[i.path])}: ${i.message}`));
  }
  return createArtifactStore(config);
}

/**
 * GET /api/artifacts/<tenant>/<job id>/<name> — the bytes of a stored job output with its content
 * type. The path is the artifact's key with each segment URL-encoded (a key from a job result
 * can be used as is unless its tenant segment holds a `%`). Keys are prefixed per tenant, so a key
 * outside the caller's tenant answers exactly like a missing one; admin keys read every tenant's.
 */
export const artifactRoutes: FastifyPluginAsync<ArtifactRouteOptions> = async (scope, options) => {
  const store = options.store ?? storeFromEnv(process.env);
  scope.addHook('onClose', async () => {
    await store.close?.();
  });

  scope.get('/api/artifacts/*', async (req, reply) => {
    parsePart(NoQuery, req.query, 'query');
    const key = (req.params as { '*'?: string })['*'] ?? '';
    try {
      checkArtifactKey(key);
    } catch (err) {
      if (err instanceof ArtifactKeyError) throw ApiError.invalid([{ path: 'params.key', message: err.message }], 'path');
      throw err;
    }
    const tenant = key.split('/', 1)[0];
    if (!req.principal.admin && tenant !== tenantSegment(req.principal.tenant)) throw ApiError.notFound(`artifact ${key}`);
    const found = await store.get(key);
    if (!found) throw ApiError.notFound(`artifact ${key}`);
    const etag = `"${found.sha256}"`;
    void reply.headers(SAFE_HEADERS).header('etag', etag);
    if (req.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.type(found.contentType).header('content-length', found.size).send(found.data);
  });
};

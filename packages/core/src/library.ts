import { functionsDir } from '@conveyor/functions';
import { LibraryVersionError } from './errors.ts';
import { assembleLibrary, functionName, type AssembledLibrary } from './functions/assemble.ts';
import { primariesOf, type RedisClient } from './redis-connection.ts';

let cached: AssembledLibrary | undefined;

/** The library assembled from `redis/functions`, built once per process. */
export function conveyorLibrary(): AssembledLibrary {
  cached ??= assembleLibrary(functionsDir);
  return cached;
}

/** The hash of the library Redis holds under this code's library name, or null when none is loaded. */
export async function loadedLibraryHash(redis: RedisClient): Promise<string | null> {
  try {
    return String(await redis.call('FCALL_RO', functionName('version'), 0));
  } catch (err) {
    if (err instanceof Error && /function not found/i.test(err.message)) return null;
    throw err;
  }
}

/**
 * Loads (or replaces) the library, then checks Redis now runs exactly this code's functions. On a
 * Cluster, on every primary: a namespace's slot may live on any of them. Replicas get the library
 * through replication (Redis replicates FUNCTION LOAD like a write), so a replica promoted by a
 * failover already has it.
 */
export async function ensureLibrary(redis: RedisClient, load: boolean): Promise<void> {
  const library = conveyorLibrary();
  for (const node of primariesOf(redis)) {
    if (load) await node.call('FUNCTION', 'LOAD', 'REPLACE', library.code);
    const actual = await loadedLibraryHash(node);
    if (actual !== library.hash) throw new LibraryVersionError(library.hash, actual);
  }
}

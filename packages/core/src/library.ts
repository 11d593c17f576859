import { functionsDir } from '@conveyor/functions';
import type { Redis } from 'ioredis';
import { LibraryVersionError } from './errors.ts';
import { assembleLibrary, functionName, type AssembledLibrary } from './functions/assemble.ts';

let cached: AssembledLibrary | undefined;

/** The library assembled from `redis/functions`, built once per process. */
export function conveyorLibrary(): AssembledLibrary {
  cached ??= assembleLibrary(functionsDir);
  return cached;
}

/** The hash of the library Redis holds under this code's library name, or null when none is loaded. */
export async function loadedLibraryHash(redis: Redis): Promise<string | null> {
  try {
    return String(await redis.call('FCALL_RO', functionName('version'), 0));
  } catch (err) {
    if (err instanceof Error && /function not found/i.test(err.message)) return null;
    throw err;
  }
}

/** Loads (or replaces) the library, then checks Redis now runs exactly this code's functions. */
export async function ensureLibrary(redis: Redis, load: boolean): Promise<void> {
  const library = conveyorLibrary();
  if (load) await redis.call('FUNCTION', 'LOAD', 'REPLACE', library.code);
  const actual = await loadedLibraryHash(redis);
  if (actual !== library.hash) throw new LibraryVersionError(library.hash, actual);
}

import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the folder holding the Lua sources, so the assembler never guesses relative paths. */
export const functionsDir = dirname(fileURLToPath(import.meta.url));

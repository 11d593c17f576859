import { createRequire } from 'node:module';
import type * as PlaywrightCore from 'playwright-core';

const require = createRequire(import.meta.url);
let loaded: typeof PlaywrightCore | undefined;

/**
 * playwright-core, loaded on first use rather than with the worker: it takes longer to load than
 * the rest of a worker, and a worker claims jobs of its other services meanwhile. Loaded with
 * require, not import: the package is CommonJS, and an ESM import of it first scans its multi-MB
 * bundles for export names.
 */
export function playwrightCore(): typeof PlaywrightCore {
  loaded ??= require('playwright-core') as typeof PlaywrightCore;
  return loaded;
}

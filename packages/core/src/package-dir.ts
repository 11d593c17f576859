import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The directory of the package holding a module (the nearest one with a package.json), from the
 * module's `import.meta.url`. A path relative to it holds both where the module runs from its
 * source under tsx (src/…) and from the compiled build (dist/…), whose depths differ.
 */
export function packageDir(moduleUrl: string): string {
  const start = dirname(fileURLToPath(moduleUrl));
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}

/** Whether a module runs from the compiled build (JavaScript) rather than its TypeScript source. */
export function isCompiled(moduleUrl: string): boolean {
  return !/\.[cm]?ts$/.test(new URL(moduleUrl).pathname);
}

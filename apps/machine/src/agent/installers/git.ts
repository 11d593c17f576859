import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { command } from './step.ts';

/**
 * Puts `dir` at `ref` of `repo` (a pinned tag or commit) and returns the commit. A directory left
 * by an interrupted clone (no .git) is ours and is cloned again; an existing clone is fetched.
 */
export async function checkout(repo: string, dir: string, ref: string, signal: AbortSignal): Promise<string> {
  if (!existsSync(join(dir, '.git'))) {
    await rm(dir, { recursive: true, force: true });
    await command('git', ['clone', '--no-checkout', '--quiet', repo, dir], { signal });
  } else {
    await command('git', ['remote', 'set-url', 'origin', repo], { cwd: dir, signal });
    await command('git', ['fetch', '--quiet', '--tags', '--force', 'origin'], { cwd: dir, signal });
  }
  await command('git', ['-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--force', '--detach', ref], { cwd: dir, signal });
  return (await command('git', ['rev-parse', 'HEAD'], { cwd: dir, signal })).trim();
}

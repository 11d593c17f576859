import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { command } from './step.ts';

/** How far a clone or fetch is (0-1) and git's own words for it. */
export type GitProgress = (fraction: number, message: string) => void;

/** Share of the whole checkout each phase of git's `--progress` output ends at. */
const PHASES: Record<string, readonly [number, number]> = {
  'Counting objects': [0, 0.05],
  'Compressing objects': [0.05, 0.1],
  'Receiving objects': [0.1, 0.8],
  'Resolving deltas': [0.8, 0.95],
  'Updating files': [0.95, 1],
};
const PROGRESS_LINE = /^(?:remote: )?(Counting objects|Compressing objects|Receiving objects|Resolving deltas|Updating files):\s+(\d+)%/;

/** Turns git's `--progress` lines (`Receiving objects:  45% (450/1000), 1.20 MiB | 2.00 MiB/s`) into progress. */
export function gitProgressLine(line: string, onProgress: GitProgress): void {
  const match = PROGRESS_LINE.exec(line);
  const phase = match && PHASES[match[1] ?? ''];
  if (!match || !phase) return;
  const [from, to] = phase;
  onProgress(from + ((to - from) * Number(match[2])) / 100, line.replace(/^remote: /, '').replace(/,\s*done\.?$/, '').trim());
}

/**
 * Puts `dir` at `ref` of `repo` (a pinned tag or commit) and returns the commit. A directory left
 * by an interrupted clone (no .git) is ours and is cloned again; an existing clone is fetched.
 * Git's progress meters (forced with --progress, as its stderr is not a terminal) move `onProgress`.
 */
export async function checkout(repo: string, dir: string, ref: string, signal: AbortSignal, onProgress: GitProgress = () => undefined): Promise<string> {
  const onLine = (line: string) => gitProgressLine(line, onProgress);
  if (!existsSync(join(dir, '.git'))) {
    await rm(dir, { recursive: true, force: true });
    await command('git', ['clone', '--no-checkout', '--progress', repo, dir], { signal, onLine });
  } else {
    await command('git', ['remote', 'set-url', 'origin', repo], { cwd: dir, signal });
    await command('git', ['fetch', '--progress', '--tags', '--force', 'origin'], { cwd: dir, signal, onLine });
  }
  await command('git', ['-c', 'advice.detachedHead=false', 'checkout', '--progress', '--force', '--detach', ref], { cwd: dir, signal, onLine });
  onProgress(1, `checked out ${ref}`);
  return (await command('git', ['rev-parse', 'HEAD'], { cwd: dir, signal })).trim();
}

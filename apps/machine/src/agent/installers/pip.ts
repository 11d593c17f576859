import { readFile } from 'node:fs/promises';
import { command } from './step.ts';
import type { StepProgress } from './types.ts';

/**
 * Progress of a `pip install -r` read from the lines pip prints (its progress bars only draw on a
 * terminal): each requirement it starts on (`Collecting x`, `Requirement already satisfied: x`,
 * `Processing ./x.whl`) moves the bar through resolution and downloads; `Installing collected
 * packages:` and `Successfully installed` end it. Dependencies are not known up front, so the
 * resolution share approaches its end as more are seen instead of ever claiming to be done.
 */
export class PipProgress {
  private seen = 0;

  /** `expected`: the requirements the file lists (at least the top-level count pip will collect). */
  constructor(private readonly expected: number) {}

  /** The fraction (0-1) and a message for one line of pip output, or undefined for lines that say nothing of progress. */
  line(text: string): { fraction: number; message: string } | undefined {
    const line = text.trim();
    const started = /^(Collecting|Requirement already satisfied:|Processing|Obtaining)\s+(\S+)/.exec(line);
    if (started) {
      this.seen++;
      return { fraction: this.resolving(), message: `pip: ${started[1]?.replace(':', '').toLowerCase()} ${started[2]} (${this.seen} seen, ${this.expected} listed)` };
    }
    const downloading = /^Downloading\s+(\S+)\s+\(([^)]+)\)/.exec(line);
    if (downloading) return { fraction: this.resolving(), message: `pip: downloading ${downloading[1]?.split('/').at(-1)} (${downloading[2]})` };
    const installing = /^Installing collected packages: (.*)$/.exec(line);
    if (installing) return { fraction: 0.8, message: `pip: installing ${installing[1]?.split(',').length} packages` };
    if (line.startsWith('Successfully installed')) return { fraction: 1, message: 'pip: installed' };
    return undefined;
  }

  private resolving(): number {
    return 0.75 * (1 - 0.5 ** (this.seen / Math.max(1, this.expected)));
  }
}

/** How many requirements a requirements file lists (not comments, blank lines or pip options). */
export function countRequirements(text: string): number {
  return text.split('\n').filter((l) => {
    const line = l.trim();
    return line !== '' && !line.startsWith('#') && !line.startsWith('-');
  }).length;
}

/** `pip install -r`, its output lines moving `progress` (see PipProgress). */
export async function pipInstall(python: string, requirements: string, indexUrl: string | undefined, signal: AbortSignal, progress: StepProgress): Promise<void> {
  const args = ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '-r', requirements];
  if (indexUrl) args.push('--extra-index-url', indexUrl);
  const pip = new PipProgress(countRequirements(await readFile(requirements, 'utf8').catch(() => '')));
  await command(python, args, {
    signal,
    onLine: (line) => {
      const update = pip.line(line);
      if (update) progress(update.fraction, update.message);
    },
  });
}

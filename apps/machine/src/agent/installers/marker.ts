import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';

const Entry = z.object({ version: z.string(), at: z.number(), detail: z.record(z.string()).optional() });
const MarkerFile = z.record(Entry);
type MarkerFile = z.infer<typeof MarkerFile>;

/**
 * What an installer finished, step by step, at which version: a later start skips a step whose
 * recorded version still matches. Written atomically so an interrupted start never leaves a marker
 * claiming work that did not finish.
 */
export class Marker {
  private constructor(
    readonly file: string,
    private entries: MarkerFile,
  ) {}

  static async open(markerDir: string, installer: string): Promise<Marker> {
    const file = join(markerDir, `${installer}.json`);
    let entries: MarkerFile = {};
    try {
      entries = MarkerFile.parse(JSON.parse(await readFile(file, 'utf8')));
    } catch {
      // A missing or unreadable marker only means the work is done again.
    }
    return new Marker(file, entries);
  }

  has(step: string, version: string): boolean {
    return this.entries[step]?.version === version;
  }

  get(step: string): { version: string; detail?: Record<string, string> } | undefined {
    return this.entries[step];
  }

  async record(step: string, version: string, detail?: Record<string, string>): Promise<void> {
    this.entries = { ...this.entries, [step]: { version, at: Date.now(), detail } };
    await mkdir(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(this.entries, null, 2));
    await rename(tmp, this.file);
  }
}

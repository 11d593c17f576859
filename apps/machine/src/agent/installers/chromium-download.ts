import { mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { z } from 'zod';

const require = createRequire(import.meta.url);

/** The installed playwright-core: its browser registry fetches the Chromium build this version drives. */
export const PLAYWRIGHT_CORE_VERSION = (require('playwright-core/package.json') as { version: string }).version;
const CORE_BUNDLE = require.resolve('playwright-core/lib/coreBundle');

/**
 * Runs in a child process: playwright-core reads PLAYWRIGHT_BROWSERS_PATH once when it loads,
 * prints its progress bar on stdout and sets process.exitCode when a download fails, none of
 * which may touch the agent. It reports what it will fetch before fetching it.
 */
const SCRIPT = `
const { registry } = require(process.argv[1]).registry ?? {};
if (typeof registry?.findExecutable !== 'function') {
  console.error('ERROR: this playwright-core has no browser registry in lib/coreBundle');
  process.exit(2);
}
const chromium = registry.findExecutable('chromium');
const plan = { title: registry.calculateDownloadTitle(chromium), urls: chromium.downloadURLs, executablePath: chromium.executablePath() };
process.send(plan, () =>
  registry.install([chromium]).then(
    () => process.exit(0),
    (err) => {
      console.error(String(err?.message ?? err));
      process.exit(1);
    },
  ),
);
`;

const Plan = z.object({ title: z.string(), urls: z.array(z.string()), executablePath: z.string().min(1) });
export type ChromiumPlan = z.infer<typeof Plan>;

export interface ChromiumDownload {
  /** PLAYWRIGHT_BROWSERS_PATH of the install: where playwright-core unpacks its builds. */
  readonly browsersPath: string;
  /** The archive's temporary directory, removed afterwards: a download killed by its time limit cannot clean up itself. */
  readonly tmpDir: string;
  /** The environment of the download (proxies, PLAYWRIGHT_DOWNLOAD_HOST for a mirror). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly signal: AbortSignal;
  /** What playwright-core is about to fetch, before any byte is. */
  readonly onPlan?: (plan: ChromiumPlan) => void;
  readonly onProgress?: (percent: number) => void;
}

/** The registry's progress lines when stdout is not a terminal: `|■■■■    |  40% of 170.3 MiB`. */
const PROGRESS_LINE = /\|\s*(\d{1,3})% of /;

/**
 * The network error behind a failed download. The registry retries in a forked process that
 * prints the real cause (`Error: connect ECONNREFUSED …`, `Error: Download failed: server returned
 * code 404 body '…'`) while the registry itself only says `Download failure, code=1`.
 */
function failureCause(stderr: string, fallback: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const network = lines.filter((l) => l.startsWith('Error: ') && !l.startsWith('Error: Download failure')).at(-1);
  return (network?.slice('Error: '.length) ?? lines[0] ?? fallback).replace(/ body '.*$/, '');
}

/**
 * Installs the Chromium build of the installed playwright-core into `browsersPath` with
 * playwright-core's own registry (its retries, lock, archive layout and clean-up of older builds),
 * and returns its executable. A build already unpacked there is not fetched again.
 */
export async function downloadChromium(req: ChromiumDownload): Promise<ChromiumPlan> {
  await mkdir(req.tmpDir, { recursive: true });
  try {
    return await fetchWithRegistry(req);
  } finally {
    await rm(req.tmpDir, { recursive: true, force: true });
  }
}

async function fetchWithRegistry(req: ChromiumDownload): Promise<ChromiumPlan> {
  const { execa } = await import('execa');
  const subprocess = execa(process.execPath, ['-e', SCRIPT, CORE_BUNDLE], {
    env: { ...req.env, PLAYWRIGHT_BROWSERS_PATH: req.browsersPath, TMPDIR: req.tmpDir },
    extendEnv: false,
    ipc: true,
    cancelSignal: req.signal,
    reject: false,
    stdin: 'ignore',
    stdout: function* (line: unknown) {
      const percent = PROGRESS_LINE.exec(String(line))?.[1];
      if (percent !== undefined) req.onProgress?.(Number(percent));
      yield line;
    },
  });
  const plan = subprocess.getOneMessage().then(
    (message) => {
      const parsed = Plan.safeParse(message).data;
      if (parsed) req.onPlan?.(parsed);
      return parsed;
    },
    () => undefined,
  );
  const result = await subprocess;
  if (req.signal.aborted) throw req.signal.reason;
  if (result.failed) throw new Error(failureCause(String(result.stderr), result.shortMessage ?? `exit code ${result.exitCode}`));
  const installed = await plan;
  if (!installed) throw new Error(`playwright-core ${PLAYWRIGHT_CORE_VERSION} did not say which Chromium it installed`);
  return installed;
}

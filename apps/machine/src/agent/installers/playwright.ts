import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { InstallerError, StepTimeoutError } from '../errors.ts';
import { downloadChromium, PLAYWRIGHT_CORE_VERSION, type ChromiumPlan } from './chromium-download.ts';
import { Marker } from './marker.ts';
import { command, withTimeout } from './step.ts';
import type { InstallContext, Installer, InstallOutcome } from './types.ts';

/** Debian's chromium package, Ubuntu's chromium-browser (a snap wrapper since 20.04) and the snap itself. */
export const SYSTEM_CHROMIUM_PATHS: readonly string[] = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/snap/bin/chromium'];

const VERSION_TIMEOUT_MS = 30_000;
const FIXES = 'apt-get install chromium, or set CHROMIUM_PATH to a Chromium binary';

export interface ChromiumInstallerOptions {
  /** Where a system Chromium is looked for, in order. */
  readonly systemPaths?: readonly string[];
}

const isExecutable = (path: string) =>
  access(path, constants.X_OK).then(
    () => true,
    () => false,
  );

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function chromiumVersion(ctx: InstallContext, path: string): Promise<string> {
  const out = await withTimeout(`${path} --version`, VERSION_TIMEOUT_MS, ctx.signal, (signal) => command(path, ['--version'], { signal }));
  return out.trim();
}

/** Checks that `path` runs; a Chromium that cannot even print its version (missing libraries) fails here rather than at the first job. */
async function verified(ctx: InstallContext, path: string, origin: string): Promise<string> {
  try {
    return await chromiumVersion(ctx, path);
  } catch (err) {
    if (ctx.signal?.aborted) throw err;
    throw new InstallerError(ctx.connector, `${path} (${origin}) does not run: ${message(err)}; ${FIXES}`, 'CHROMIUM_BROKEN', { cause: err });
  }
}

function use(ctx: InstallContext, path: string, origin: string, version: string, status: InstallOutcome['status']): InstallOutcome {
  ctx.progress({ percent: 100, message: version });
  ctx.logger.info({ connector: ctx.connector, chromium: path, origin, version }, 'chromium found');
  return { status, workerEnv: { CHROMIUM_PATH: path } };
}

/**
 * The Chromium the playwright connector drives, passed to its worker as CHROMIUM_PATH: the one
 * CHROMIUM_PATH names, else the system Chromium, else the build of the installed playwright-core,
 * downloaded once by playwright-core's own installer into <install dir>/playwright-browsers and
 * recorded in the marker so later starts find it without any network.
 */
export function chromiumInstaller(options: ChromiumInstallerOptions = {}): Installer {
  const systemPaths = options.systemPaths ?? SYSTEM_CHROMIUM_PATHS;
  return async (ctx) => {
    const configured = ctx.config.CHROMIUM_PATH;
    if (configured) {
      if (!(await isExecutable(configured))) {
        throw new InstallerError(
          ctx.connector,
          `no executable Chromium at ${configured} (CHROMIUM_PATH); point CHROMIUM_PATH at a Chromium binary, or unset it to use the system Chromium or one the machine downloads`,
          'CHROMIUM_NOT_FOUND',
        );
      }
      return use(ctx, configured, 'CHROMIUM_PATH', await verified(ctx, configured, 'CHROMIUM_PATH'), 'done');
    }

    const unusable: string[] = [];
    for (const path of systemPaths) {
      if (!(await isExecutable(path))) continue;
      try {
        return use(ctx, path, 'system', await chromiumVersion(ctx, path), 'done');
      } catch (err) {
        if (ctx.signal?.aborted) throw err;
        // Ubuntu's chromium-browser without snapd, say: the next candidate may still work.
        ctx.logger.warn({ connector: ctx.connector, chromium: path, error: message(err) }, 'system chromium does not run');
        unusable.push(`${path} does not run`);
      }
    }

    const marker = await Marker.open(ctx.config.markerDir, 'playwright');
    const markerVersion = `playwright-core@${PLAYWRIGHT_CORE_VERSION}`;
    const recorded = marker.get('chromium');
    const previous = recorded?.version === markerVersion ? recorded.detail?.executablePath : undefined;
    if (previous && (await isExecutable(previous))) {
      return use(ctx, previous, 'installed earlier', await verified(ctx, previous, 'installed by this machine'), 'skipped');
    }

    const browsersPath = join(ctx.config.MACHINE_INSTALL_DIR, 'playwright-browsers');
    let plan: ChromiumPlan | undefined;
    ctx.progress({ percent: 0, message: 'downloading Chromium' });
    let installed: ChromiumPlan;
    try {
      installed = await withTimeout('playwright chromium download', ctx.config.INSTALL_STEP_TIMEOUT_MS, ctx.signal, (signal) =>
        downloadChromium({
          browsersPath,
          tmpDir: join(ctx.config.cacheDir, 'playwright-download'),
          env: ctx.env,
          signal,
          onPlan: (p) => {
            plan = p;
            ctx.logger.info({ connector: ctx.connector, title: p.title, urls: p.urls, browsersPath }, 'downloading chromium');
          },
          // 100% is the end of the transfer; unpacking and the version check follow.
          onProgress: (percent) => ctx.progress({ percent: Math.min(99, percent), message: `downloading ${plan?.title ?? 'Chromium'}` }),
        }),
      );
    } catch (err) {
      if (ctx.signal?.aborted) throw err;
      const system = `none ${unusable.length > 0 ? 'that runs ' : ''}at ${systemPaths.join(', ')}${unusable.length > 0 ? `: ${unusable.join(', ')}` : ''}`;
      const what = plan ? `${plan.title} from ${plan.urls.join(' or ') || '(no build for this platform)'}` : 'its Chromium build';
      const code = err instanceof StepTimeoutError ? err.code : 'CHROMIUM_DOWNLOAD_FAILED';
      throw new InstallerError(
        ctx.connector,
        `no Chromium to run. Tried: CHROMIUM_PATH (not set); the system Chromium (${system}); playwright-core ${PLAYWRIGHT_CORE_VERSION} downloading ${what} into ${browsersPath}, which failed: ${message(err)}. Fix: ${FIXES} (a download mirror can be set with PLAYWRIGHT_DOWNLOAD_HOST)`,
        code,
        { cause: err },
      );
    }
    const version = await verified(ctx, installed.executablePath, `downloaded by playwright-core ${PLAYWRIGHT_CORE_VERSION}`);
    await marker.record('chromium', markerVersion, { executablePath: installed.executablePath, browsersPath, version });
    return use(ctx, installed.executablePath, 'downloaded', version, 'done');
  };
}

export const installChromium = chromiumInstaller();

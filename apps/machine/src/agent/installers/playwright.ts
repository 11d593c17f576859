import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { InstallerError } from '../errors.ts';
import { command, withTimeout } from './step.ts';
import type { Installer } from './types.ts';

export const SYSTEM_CHROMIUM = '/usr/bin/chromium';

/** Playwright drives an existing Chromium (CHROMIUM_PATH or the system one); nothing is downloaded. */
export const checkChromium: Installer = async (ctx) => {
  const path = ctx.config.CHROMIUM_PATH ?? SYSTEM_CHROMIUM;
  const origin = ctx.config.CHROMIUM_PATH ? 'CHROMIUM_PATH' : 'the system Chromium';
  try {
    await access(path, constants.X_OK);
  } catch {
    throw new InstallerError(
      ctx.connector,
      `no executable Chromium at ${path} (${origin}); install it (apt-get install chromium) or set CHROMIUM_PATH to a Chromium binary`,
      'CHROMIUM_NOT_FOUND',
    );
  }
  const version = await withTimeout('chromium --version', 30_000, ctx.signal, (signal) => command(path, ['--version'], { signal })).catch(
    (err: unknown) => {
      throw new InstallerError(ctx.connector, `${path} --version failed: ${(err as Error).message}`, 'CHROMIUM_BROKEN', { cause: err });
    },
  );
  ctx.progress({ percent: 100, message: version.trim() });
  ctx.logger.info({ connector: ctx.connector, chromium: path, version: version.trim() }, 'chromium found');
  return { status: 'done', workerEnv: { CHROMIUM_PATH: path } };
};

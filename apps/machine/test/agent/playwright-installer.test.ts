import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentConfig } from '../../src/agent/env.ts';
import { InstallerError } from '../../src/agent/errors.ts';
import { PLAYWRIGHT_CORE_VERSION } from '../../src/agent/installers/chromium-download.ts';
import { runInstallers } from '../../src/agent/installers/index.ts';
import { chromiumInstaller } from '../../src/agent/installers/playwright.ts';
import type { InstallOutcome } from '../../src/agent/installers/types.ts';
import { config, failure, modelServer, tempDir, type ModelServer } from './fixtures.ts';
import { cft, chromiumBuild, closedPort, standInChromiumArchive } from './playwright-mirror.ts';

const logger = pino({ level: 'silent' });

/**
 * Offline: playwright-core's own installer fetches from a local mirror (PLAYWRIGHT_DOWNLOAD_HOST)
 * serving Chrome for Testing's archive layout with a shell script as `chrome`. The system paths
 * point into the temp directory, so the host's /usr/bin/chromium is not seen.
 */
describe.skipIf(!cft)('Playwright installer without a system Chromium (local playwright-core mirror)', () => {
  const root = tempDir();
  const absent = [join(root, 'usr-bin-chromium'), join(root, 'usr-bin-chromium-browser')];
  let server: ModelServer;

  const setup = (name: string, env: Record<string, string> = {}): { cfg: AgentConfig; browsers: string } => {
    const cfg = config({ WORKER_CONNECTORS: 'simulation,playwright', MACHINE_INSTALL_DIR: join(root, name), ...env });
    return { cfg, browsers: join(cfg.MACHINE_INSTALL_DIR, 'playwright-browsers') };
  };

  function run(cfg: AgentConfig, host: string, systemPaths: readonly string[] = absent) {
    const progress: { percent: number; message?: string }[] = [];
    const result = chromiumInstaller({ systemPaths })({
      connector: 'playwright',
      config: cfg,
      env: { ...process.env, PLAYWRIGHT_DOWNLOAD_HOST: host },
      logger,
      progress: (p) => progress.push(p),
    });
    return { progress, result };
  }

  beforeAll(async () => {
    server = await modelServer({ [chromiumBuild.urlPath]: standInChromiumArchive(randomBytes(2 * 1024 * 1024)) });
  });
  afterAll(() => server.close());

  describe('installs once, then finds what it installed', () => {
    const { cfg, browsers } = setup('install');
    const executable = chromiumBuild.executable(browsers);
    let first: InstallOutcome;

    it('downloads the Chromium build of the installed playwright-core, with progress, and hands it to the worker', async () => {
      const { result, progress } = run(cfg, server.url);
      first = await result;
      expect(first).toEqual({ status: 'done', workerEnv: { CHROMIUM_PATH: executable } });
      expect(server.requests.map((r) => r.path)).toEqual([chromiumBuild.urlPath]);
      expect(readFileSync(executable, 'utf8')).toContain('stand-in');
      expect(existsSync(join(browsers, `chromium-${chromiumBuild.revision}`, 'INSTALLATION_COMPLETE'))).toBe(true);

      const downloading = progress.filter((p) => p.message?.startsWith('downloading Chrome for Testing'));
      expect(downloading.some((p) => p.percent > 0 && p.percent < 99)).toBe(true);
      expect(downloading.map((p) => p.percent)).toEqual([...downloading.map((p) => p.percent)].sort((a, b) => a - b));
      expect(progress.at(-1)).toEqual({ percent: 100, message: `Google Chrome for Testing ${chromiumBuild.browserVersion} (stand-in)` });

      const marker = JSON.parse(readFileSync(join(cfg.markerDir, 'playwright.json'), 'utf8')) as Record<string, { version: string; detail?: Record<string, string> }>;
      expect(marker.chromium).toMatchObject({
        version: `playwright-core@${PLAYWRIGHT_CORE_VERSION}`,
        detail: { executablePath: executable, browsersPath: browsers },
      });
    });

    it('skips on a second start: the marker names the executable and nothing is fetched', async () => {
      const before = server.requests.length;
      const { result } = run(cfg, server.url);
      expect(await result).toEqual({ status: 'skipped', workerEnv: { CHROMIUM_PATH: executable } });
      expect(server.requests.length).toBe(before);
    });

    it('re-uses the unpacked build when the marker is lost, still without fetching', async () => {
      rmSync(join(cfg.markerDir, 'playwright.json'));
      const before = server.requests.length;
      const { result } = run(cfg, server.url);
      expect(await result).toEqual(first);
      expect(server.requests.length).toBe(before);
      expect(existsSync(join(cfg.markerDir, 'playwright.json'))).toBe(true);
    });
  });

  it('prefers a system Chromium that runs, skipping one that does not, and downloads nothing', async () => {
    const broken = join(root, 'broken-chromium');
    const working = join(root, 'system-chromium');
    writeFileSync(broken, '#!/bin/sh\necho "needs snapd" >&2\nexit 1\n');
    writeFileSync(working, '#!/bin/sh\necho "Chromium 131.0 (system stand-in)"\n');
    chmodSync(broken, 0o755);
    chmodSync(working, 0o755);
    const before = server.requests.length;
    const { result } = run(setup('system').cfg, server.url, [absent[0] ?? '', broken, working]);
    expect(await result).toEqual({ status: 'done', workerEnv: { CHROMIUM_PATH: working } });
    expect(server.requests.length).toBe(before);
  });

  it('fails only the playwright connector when the mirror answers 404, saying what was tried and the fixes', async () => {
    const { cfg, browsers } = setup('not-found');
    const host = `${server.url}/missing`;
    const states: string[] = [];
    const results = await runInstallers(['simulation', 'playwright'], {
      config: cfg,
      env: { ...process.env, PLAYWRIGHT_DOWNLOAD_HOST: host },
      logger,
      installers: { playwright: chromiumInstaller({ systemPaths: absent }) },
      onState: (s) => states.push(`${s.connector}:${s.status}`),
    });
    expect([...results.succeeded.keys()]).toEqual(['simulation']);
    const err = results.failed.get('playwright');
    expect(err).toBeInstanceOf(InstallerError);
    expect((err as InstallerError).code).toBe('CHROMIUM_DOWNLOAD_FAILED');
    expect(err?.message).toBe(
      `playwright: no Chromium to run. Tried: CHROMIUM_PATH (not set); the system Chromium (none at ${absent.join(', ')}); ` +
        `playwright-core ${PLAYWRIGHT_CORE_VERSION} downloading Chrome for Testing ${chromiumBuild.browserVersion} (playwright chromium v${chromiumBuild.revision}) ` +
        `from ${host}${chromiumBuild.urlPath} into ${browsers}, which failed: Download failed: server returned code 404. ` +
        'Fix: apt-get install chromium, or set CHROMIUM_PATH to a Chromium binary (a download mirror can be set with PLAYWRIGHT_DOWNLOAD_HOST)',
    );
    expect(states).toContain('playwright:failed');
    expect(states).toContain('simulation:skipped');
    expect(existsSync(join(cfg.markerDir, 'playwright.json'))).toBe(false);
    expect(existsSync(chromiumBuild.executable(browsers))).toBe(false);
  });

  it('gives the same clear error when the mirror refuses connections', async () => {
    const host = `http://127.0.0.1:${await closedPort()}`;
    const err = await failure(run(setup('refused').cfg, host).result);
    expect(err.code).toBe('CHROMIUM_DOWNLOAD_FAILED');
    expect(err.message).toContain(`from ${host}${chromiumBuild.urlPath}`);
    expect(err.message).toMatch(/which failed: connect ECONNREFUSED 127\.0\.0\.1:\d+\. Fix: apt-get install chromium, or set CHROMIUM_PATH/);
  });

  describe('a mirror that stalls', () => {
    let stalled: Server;
    beforeAll(async () => {
      stalled = createServer((_req, res) => {
        res.writeHead(200, { 'Content-Length': 1024 * 1024 });
        res.write(Buffer.alloc(1024));
      });
      await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      stalled.closeAllConnections();
      await new Promise<void>((resolve) => stalled.close(() => resolve()));
    });

    it('is stopped by INSTALL_STEP_TIMEOUT_MS', async () => {
      const address = stalled.address();
      if (!address || typeof address !== 'object') throw new Error('no port');
      const { cfg } = setup('stalled', { INSTALL_STEP_TIMEOUT_MS: '1500' });
      const err = await failure(run(cfg, `http://127.0.0.1:${address.port}`).result);
      expect(err.code).toBe('STEP_TIMEOUT');
      expect(err.message).toContain('install step "playwright chromium download" took longer than 1500 ms');
      expect(err.message).toContain('Fix: apt-get install chromium, or set CHROMIUM_PATH');
      // The killed download's partial archive is not left behind.
      expect(existsSync(join(cfg.cacheDir, 'playwright-download'))).toBe(false);
    });
  });
});

describe('Playwright installer with CHROMIUM_PATH', () => {
  it('names CHROMIUM_PATH when it points at a missing file, and looks no further', async () => {
    const root = tempDir();
    const cfg = config({ WORKER_CONNECTORS: 'playwright', MACHINE_INSTALL_DIR: root, CHROMIUM_PATH: join(root, 'no-such-chromium') });
    const err = await failure(
      chromiumInstaller({ systemPaths: ['/usr/bin/chromium'] })({ connector: 'playwright', config: cfg, env: {}, logger, progress: () => undefined }),
    );
    expect(err.code).toBe('CHROMIUM_NOT_FOUND');
    expect(err.message).toBe(
      `playwright: no executable Chromium at ${join(root, 'no-such-chromium')} (CHROMIUM_PATH); point CHROMIUM_PATH at a Chromium binary, or unset it to use the system Chromium or one the machine downloads`,
    );
  });
});

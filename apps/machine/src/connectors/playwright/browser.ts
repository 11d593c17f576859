import { ConveyorError, type ConnectorLogger } from '@conveyor/core';
import type { Browser } from 'playwright-core';
import { playwrightCore } from './core.ts';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/**
 * One Chromium per worker process, launched on first use and shared by concurrent jobs (each gets
 * its own context). A crashed browser is relaunched by the next job.
 */
export class SharedBrowser {
  private browser: Promise<Browser> | undefined;
  private closed = false;

  constructor(
    private readonly executablePath: string,
    private readonly logger: ConnectorLogger,
  ) {}

  async get(): Promise<Browser> {
    if (this.closed) throw new ConveyorError('BROWSER_CLOSED', 'the browser was closed because the worker is stopping');
    const current = (this.browser ??= this.launch());
    try {
      return await current;
    } catch (err) {
      if (this.browser === current) this.browser = undefined;
      throw err;
    }
  }

  private async launch(): Promise<Browser> {
    let browser: Browser;
    try {
      browser = await playwrightCore().chromium.launch({
        executablePath: this.executablePath,
        args: CHROMIUM_ARGS,
        // The worker drains on SIGTERM and closes the browser itself; Playwright's own handlers
        // would kill it under the jobs still running.
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
      });
    } catch (err) {
      throw new ConveyorError('BROWSER_LAUNCH_FAILED', `could not launch ${this.executablePath}: ${(err as Error).message}`, { cause: err });
    }
    // Past the await, `this.browser` holds this launch's promise; a later relaunch must not be dropped.
    const launched = this.browser;
    browser.on('disconnected', () => {
      if (this.closed) return;
      this.logger.warn({ executablePath: this.executablePath }, 'chromium disconnected; the next job relaunches it');
      if (this.browser === launched) this.browser = undefined;
    });
    this.logger.info({ executablePath: this.executablePath, version: browser.version() }, 'chromium launched');
    return browser;
  }

  async close(): Promise<void> {
    this.closed = true;
    const browser = await this.browser?.catch(() => undefined);
    this.browser = undefined;
    await browser?.close();
  }
}

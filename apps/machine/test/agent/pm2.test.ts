import { join } from 'node:path';
import { isAlive } from '@conveyor/local-stack';
import { afterAll, describe, expect, it } from 'vitest';
import { Pm2Controller } from '../../src/agent/pm2.ts';
import { tempDir } from './fixtures.ts';
import { killPm2, pm2DaemonPid } from './pm2-harness.ts';

describe('the PM2 daemon of the agent', () => {
  const home = join(tempDir('cvm-pm2-'), 'pm2');
  afterAll(() => killPm2(home), 30_000);

  it('is launched when none runs, found again by the next connect, and gone after kill', async () => {
    const first = await Pm2Controller.connect(home);
    const daemon = pm2DaemonPid(home);
    expect(daemon).toBeDefined();
    expect(await first.list()).toEqual([]);
    first.disconnect();

    // A daemon left running (an agent that died without draining) is connected to, not launched twice.
    const second = await Pm2Controller.connect(home);
    expect(pm2DaemonPid(home)).toBe(daemon);
    expect(await second.list()).toEqual([]);

    await second.kill();
    expect(isAlive(daemon ?? 0)).toBe(false);
  });
});

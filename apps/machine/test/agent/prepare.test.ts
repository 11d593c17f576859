import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { InstallerState } from '@conveyor/core';
import { MachineStartError } from '../../src/agent/errors.ts';
import { simulatedGpus } from '../../src/agent/hardware.ts';
import { install } from '../../src/agent/prepare.ts';
import { config } from './fixtures.ts';

const logger = pino({ level: 'silent' });
const hardware = { cpuModel: 'test', cpuCores: 2, memoryMb: 1024, gpus: simulatedGpus(1, 8192) };

describe('installing a machine', () => {
  it('leaves out a connector whose installer failed, or that has no GPU, and runs the rest', async () => {
    const states: InstallerState[] = [];
    const options = { config: config({ WORKER_CONNECTORS: 'simulation,openai,comfyui' }), logger, env: {} };
    const installed = await install(options, { ...hardware, gpus: [] }, (s) => states.push(s));
    expect(installed.accepted).toEqual(['simulation']);
    const final = (name: string) => states.filter((s) => s.connector === name).at(-1);
    expect(final('openai')).toMatchObject({ status: 'failed', error: expect.stringContaining('OPENAI_API_KEY') });
    expect(final('comfyui')).toMatchObject({ status: 'failed', error: expect.stringContaining('needs a GPU and none was detected') });
    expect(final('simulation')).toMatchObject({ status: 'skipped', progress: { percent: 100 } });
  });

  it('stops the machine on any failure when MACHINE_STRICT=1', async () => {
    const options = { config: config({ WORKER_CONNECTORS: 'simulation,openai', MACHINE_STRICT: '1' }), logger, env: {} };
    const err = await install(options, hardware, () => undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MachineStartError);
    expect((err as MachineStartError).code).toBe('INSTALL_FAILED_STRICT');
    expect((err as MachineStartError).message).toMatch(/installers failed:\s+openai: OPENAI_API_KEY is not set/);
  });

  it('refuses to start with no connector left', async () => {
    const options = { config: config({ WORKER_CONNECTORS: 'openai' }), logger, env: {} };
    const err = await install(options, hardware, () => undefined).catch((e: unknown) => e);
    expect((err as MachineStartError).code).toBe('NO_CONNECTORS');
  });
});

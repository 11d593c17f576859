import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectGpus, detectHardware, parseNvidiaSmi } from '../../src/agent/hardware.ts';
import { FIXTURE_BIN, tempDir } from './fixtures.ts';

const withStandIn = { ...process.env, PATH: `${FIXTURE_BIN}:${process.env.PATH ?? ''}` };

describe('hardware detection', () => {
  it('reads GPUs from nvidia-smi on PATH', async () => {
    const warnings: string[] = [];
    const gpus = await detectGpus({ env: withStandIn, onWarning: (w) => warnings.push(w) });
    expect(warnings).toEqual([]);
    expect(gpus).toEqual([
      { index: 0, name: 'NVIDIA GeForce RTX 4090', memoryMb: 24564, memoryFreeMb: 23861, driver: '550.54.14' },
      { index: 1, name: 'NVIDIA GeForce RTX 4090', memoryMb: 24564, memoryFreeMb: 24210, driver: '550.54.14' },
    ]);
  });

  it('finds no GPUs, silently, where nvidia-smi is not installed', async () => {
    const empty = tempDir();
    const warnings: string[] = [];
    const gpus = await detectGpus({ env: { ...process.env, PATH: empty }, onWarning: (w) => warnings.push(w) });
    expect(gpus).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('finds no GPUs, with a warning, when nvidia-smi fails', async () => {
    const warnings: string[] = [];
    const gpus = await detectGpus({ env: { ...withStandIn, NVIDIA_SMI_CSV: '/nonexistent.csv' }, onWarning: (w) => warnings.push(w) });
    expect(gpus).toEqual([]);
    expect(warnings).toEqual([expect.stringContaining('nvidia-smi failed')]);
  });

  it('rejects output that is not the queried CSV', () => {
    expect(() => parseNvidiaSmi('No devices were found')).toThrow(/unexpected nvidia-smi line/);
    expect(parseNvidiaSmi('1, B, 8192, 100, 535\n0, A, 16384, [N/A], 535\n')).toEqual([
      { index: 0, name: 'A', memoryMb: 16384, memoryFreeMb: undefined, driver: '535' },
      { index: 1, name: 'B', memoryMb: 8192, memoryFreeMb: 100, driver: '535' },
    ]);
  });

  it('simulates MACHINE_GPU_COUNT GPUs and reports CPU, memory and disk', async () => {
    const dir = join(tempDir(), 'install');
    mkdirSync(dir);
    const hardware = await detectHardware({ gpuCount: 3, simulatedGpuMemoryMb: 16_000, diskPath: dir });
    expect(hardware.gpus.map((g) => [g.index, g.memoryMb, g.name])).toEqual([
      [0, 16_000, 'Simulated NVIDIA GPU'],
      [1, 16_000, 'Simulated NVIDIA GPU'],
      [2, 16_000, 'Simulated NVIDIA GPU'],
    ]);
    expect(hardware.cpuCores).toBeGreaterThan(0);
    expect(hardware.memoryMb).toBeGreaterThan(0);
    expect(hardware.diskFreeMb).toBeGreaterThan(0);
    expect(hardware.cpuModel).not.toBe('');
  });
});

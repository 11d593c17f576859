import { statfs } from 'node:fs/promises';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { Gpu, MachineState } from '@conveyor/core';

export type Hardware = MachineState['hardware'];

export const NVIDIA_SMI_ARGS = ['--query-gpu=index,name,memory.total,memory.free,driver_version', '--format=csv,noheader,nounits'];

export interface HardwareOptions {
  /** MACHINE_GPU_COUNT: simulate this many GPUs instead of asking nvidia-smi. */
  readonly gpuCount?: number;
  /** MACHINE_GPU_MEMORY_MB: memory of each simulated GPU. */
  readonly simulatedGpuMemoryMb: number;
  /** Directory whose file system's free space is reported (the install dir). */
  readonly diskPath: string;
  /** Environment for nvidia-smi (its PATH decides which nvidia-smi runs). */
  readonly env?: NodeJS.ProcessEnv;
  readonly onWarning?: (message: string) => void;
}

/** Parses `nvidia-smi --query-gpu=index,name,memory.total,memory.free,driver_version --format=csv,noheader,nounits`. */
export function parseNvidiaSmi(csv: string): Gpu[] {
  const gpus: Gpu[] = [];
  for (const line of csv.split('\n')) {
    if (line.trim() === '') continue;
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length < 5) throw new Error(`unexpected nvidia-smi line: "${line}"`);
    const [index, name = '', total, free, driver] = cells;
    const number = (v: string | undefined) => {
      const n = Number(v);
      return Number.isFinite(n) ? Math.round(n) : undefined;
    };
    const idx = number(index);
    const memoryMb = number(total);
    if (idx === undefined || memoryMb === undefined) throw new Error(`unexpected nvidia-smi line: "${line}"`);
    gpus.push({ index: idx, name, memoryMb, memoryFreeMb: number(free), driver });
  }
  return gpus.sort((a, b) => a.index - b.index);
}

/** GPUs from nvidia-smi; none when it is missing or fails (a warning says why). */
export async function detectGpus(options: Pick<HardwareOptions, 'env' | 'onWarning'> = {}): Promise<Gpu[]> {
  // Loaded here, not with the agent: a machine with simulated GPUs never runs nvidia-smi.
  const { execa } = await import('execa');
  const result = await execa('nvidia-smi', NVIDIA_SMI_ARGS, { env: options.env, timeout: 15_000, reject: false });
  if (result.failed) {
    const missing = (result as { code?: string }).code === 'ENOENT';
    if (!missing) options.onWarning?.(`nvidia-smi failed (${result.shortMessage}); assuming no GPUs`);
    return [];
  }
  try {
    return parseNvidiaSmi(result.stdout);
  } catch (err) {
    options.onWarning?.(`${(err as Error).message}; assuming no GPUs`);
    return [];
  }
}

export function simulatedGpus(count: number, memoryMb: number): Gpu[] {
  return Array.from({ length: count }, (_, index) => ({
    index,
    name: 'Simulated NVIDIA GPU',
    memoryMb,
    memoryFreeMb: memoryMb,
    driver: 'simulated',
  }));
}

/** Free space for an unprivileged user at `path` (its nearest existing ancestor): one statfs call, where listing every mount ran `df`. */
async function diskFreeMb(path: string): Promise<number | undefined> {
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    const stats = await statfs(dir).catch(() => undefined);
    if (stats) return Math.floor((stats.bavail * stats.bsize) / 1024 / 1024);
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * CPU and memory come from the kernel through node:os (the CPU's model name as /proc/cpuinfo gives
 * it, its logical cores): asking systeminformation cost a start-up over 100 ms to load it and ran
 * lscpu twice and dmidecode for the same two facts.
 */
export async function detectHardware(options: HardwareOptions): Promise<Hardware> {
  const [disk, gpus] = await Promise.all([
    diskFreeMb(options.diskPath),
    options.gpuCount === undefined ? detectGpus(options) : Promise.resolve(simulatedGpus(options.gpuCount, options.simulatedGpuMemoryMb)),
  ]);
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model.trim() || 'unknown',
    cpuCores: cpu.length || availableParallelism(),
    memoryMb: Math.floor(totalmem() / 1024 / 1024),
    diskFreeMb: disk,
    gpus,
  };
}

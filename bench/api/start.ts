import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { packageDir } from '@conveyor/core';
import { freePort } from '@conveyor/testing';
import { startRedisServer } from '@conveyor/testing';
import { summarize } from '../lib/stats.ts';

/**
 * API start: from spawning the process to the first 200 from /ready, for the compiled build
 * production runs (`node apps/api/dist/main.js`, built by this bench's script) and, for
 * comparison, the TypeScript source through tsx (development). Target: ready within 1.5 s.
 */

const API_DIR = join(packageDir(import.meta.url), '../apps/api');
const ROUNDS = Number(process.env.BENCH_API_START_ROUNDS ?? 3);
const TARGET_MS = 1500;
const MODES = {
  compiled: ['--enable-source-maps', 'dist/main.js'],
  tsx: ['--import', 'tsx', 'src/main.ts'],
} as const;

const progress = (message: string) => process.stderr.write(`[bench:api:start] ${message}\n`);

async function oneStart(args: readonly string[], redisUrl: string): Promise<number> {
  const port = await freePort();
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, args, { cwd: API_DIR, env: { ...process.env, REDIS_URL: redisUrl, PORT: String(port), LOG_LEVEL: 'warn' }, stdio: 'ignore' });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the API exited with ${child.exitCode} before it was ready`);
      const ok = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.ok, () => false);
      if (ok) return Math.round(performance.now() - spawnedAt);
      if (performance.now() - spawnedAt > 60_000) throw new Error('the API was not ready within 60 s');
      await sleep(5);
    }
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

async function main(): Promise<void> {
  const redis = await startRedisServer();
  const medians: Record<string, number> = {};
  try {
    for (const [mode, args] of Object.entries(MODES)) {
      await oneStart(args, redis.url); // warms the file cache, as a restarted instance finds it
      const samples: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        samples.push(await oneStart(args, redis.url));
        progress(`${mode} round ${i + 1}/${ROUNDS}: ready ${samples.at(-1)} ms`);
      }
      medians[mode] = summarize(samples).p50;
    }
  } finally {
    await redis.stop();
  }
  process.stdout.write(
    [
      `API start, spawn → /ready 200 (median of ${ROUNDS}, ms; target ${TARGET_MS} for production):`,
      `  compiled (node dist/main.js, production)   ${medians.compiled}`,
      `  source through tsx (development)           ${medians.tsx}`,
      '',
    ].join('\n'),
  );
  process.stdout.write(`${JSON.stringify({ api_ready_ms: medians.compiled, api_ready_tsx_ms: medians.tsx })}\n`);
}

await main();

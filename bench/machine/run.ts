import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Broker } from '@conveyor/core';
import { startRedisServer } from '@conveyor/testing';
import { summarize } from '../lib/stats.ts';

/**
 * Cold start of a machine whose installers already ran (markers in place): from spawning the
 * compiled agent as production starts it (`node apps/machine/dist/agent.js start`, built by this
 * bench's script; its workers run compiled too) to the machine's `ready` and to its first job
 * claimed. A job waits in the queue before each start, as work would for a machine being scaled
 * up. Target: first job claimed within 1.5 s. Each round also starts the agent from its TypeScript
 * source through tsx (development, bin/conveyor-machine.js), alternating, so load from other
 * processes falls on both.
 */

const ENTRIES = {
  compiled: ['--enable-source-maps', fileURLToPath(new URL('../../apps/machine/dist/agent.js', import.meta.url))],
  tsx: [fileURLToPath(new URL('../../apps/machine/bin/conveyor-machine.js', import.meta.url))],
} as const;
type Entry = keyof typeof ENTRIES;
const TARGET_MS = 1500;
const MACHINE_ID = 'bench-machine';
const ROUNDS = Number(process.env.BENCH_MACHINE_ROUNDS ?? 3);
const CONNECTORS = process.env.WORKER_CONNECTORS ?? 'simulation,playwright';

const progress = (message: string) => process.stderr.write(`[bench:machine] ${message}\n`);

interface Round {
  readonly readyMs: number;
  readonly claimMs: number;
  /** Agent phases from its fleet events, ms after spawn. */
  readonly phases: Record<string, number>;
}

function startAgent(entry: Entry, env: NodeJS.ProcessEnv, log: string): ChildProcess {
  const fd = openSync(log, 'a');
  return spawn(process.execPath, [...ENTRIES[entry], 'start'], { env, stdio: ['ignore', fd, fd] });
}

async function stopAgent(agent: ChildProcess): Promise<void> {
  if (agent.exitCode !== null) return;
  const exited = new Promise((resolve) => agent.once('exit', resolve));
  agent.kill('SIGTERM');
  await exited;
}

/** First time (stream id ms) each machine status of this machine appeared after `since`. */
async function phases(broker: Broker, since: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [id, fields] of await broker.redis.xrange(broker.keys.fleet(), String(since), '+')) {
    const event = JSON.parse(fields[1] ?? '{}') as { machine?: { machineId: string; status: string } };
    if (event.machine?.machineId !== MACHINE_ID || event.machine.status in out) continue;
    out[event.machine.status] = Number(id.split('-')[0]) - since;
  }
  return out;
}

async function oneRound(entry: Entry, broker: Broker, env: NodeJS.ProcessEnv, log: string, timeoutMs = 120_000): Promise<Round> {
  const { id } = await broker.submit({ service: 'simulation', payload: { durationMs: 10, steps: 1 } });
  let claimedAt: number | undefined;
  const unsubscribe = broker.subscribe((event) => {
    if (event.job === id && event.type === 'active') claimedAt ??= event.ts;
  });
  const spawnedAt = Date.now();
  const agent = startAgent(entry, env, log);
  try {
    const deadline = spawnedAt + timeoutMs;
    let seen: Record<string, number> = {};
    while (Date.now() < deadline && (claimedAt === undefined || seen.ready === undefined)) {
      if (agent.exitCode !== null) throw new Error(`agent exited with ${agent.exitCode}; see ${log}`);
      await sleep(20);
      seen = await phases(broker, spawnedAt);
    }
    if (claimedAt === undefined || seen.ready === undefined) throw new Error(`machine not ready with a claimed job after ${timeoutMs} ms; see ${log}`);
    return { readyMs: seen.ready, claimMs: claimedAt - spawnedAt, phases: seen };
  } finally {
    unsubscribe();
    await stopAgent(agent);
  }
}

async function main(): Promise<void> {
  const redis = await startRedisServer();
  const dir = mkdtempSync(join(tmpdir(), 'bench-machine-'));
  const log = join(dir, 'agent.log');
  const env = {
    ...process.env,
    WORKER_CONNECTORS: CONNECTORS,
    REDIS_URL: redis.url,
    MACHINE_ID,
    MACHINE_INSTALL_DIR: join(dir, 'install'),
    MACHINE_GPU_COUNT: process.env.MACHINE_GPU_COUNT ?? '0',
    MACHINE_DRAIN_GRACE_MS: '5000',
  };
  const broker = await Broker.connect({ redis: redis.url });
  try {
    progress(`warm-up start with WORKER_CONNECTORS=${CONNECTORS} (runs the installers once; log: ${log})`);
    const warm = await oneRound('compiled', broker, env, log);
    progress(`warm-up: ready ${warm.readyMs} ms, first claim ${warm.claimMs} ms`);
    const rounds: Record<Entry, Round[]> = { compiled: [], tsx: [] };
    for (let i = 0; i < ROUNDS; i++) {
      for (const entry of ['compiled', 'tsx'] as const) {
        const round = await oneRound(entry, broker, env, log);
        rounds[entry].push(round);
        const p = round.phases;
        progress(`round ${i + 1}/${ROUNDS} ${entry}: starting ${p.starting} ms, installing ${p.installing} ms, ready ${round.readyMs} ms, first claim ${round.claimMs} ms`);
      }
    }
    const report = (entry: Entry) => {
      const r = rounds[entry];
      return {
        starting: summarize(r.map((x) => x.phases.starting ?? 0)),
        installing: summarize(r.map((x) => (x.phases.ready ?? 0) - (x.phases.installing ?? 0))),
        ready: summarize(r.map((x) => x.readyMs)),
        claim: summarize(r.map((x) => x.claimMs)),
      };
    };
    const compiled = report('compiled');
    const tsx = report('tsx');
    const row = (label: string, pick: (r: ReturnType<typeof report>) => { p50: number; p99: number }) =>
      `  ${label.padEnd(38)} ${`${pick(compiled).p50} / ${pick(compiled).p99}`.padStart(13)}   ${`${pick(tsx).p50} / ${pick(tsx).p99}`.padStart(13)}`;
    process.stdout.write(
      [
        `machine cold start, installers cached (${ROUNDS} rounds each, median / p99 ms from spawn; target first claim ≤ ${TARGET_MS} compiled):`,
        `  ${''.padEnd(38)} ${'compiled'.padStart(13)}   ${'tsx (dev)'.padStart(13)}`,
        row('process up, registered (starting)', (r) => r.starting),
        row('installers + PM2 start (→ ready)', (r) => r.installing),
        row('ready', (r) => r.ready),
        row('first job claimed', (r) => r.claim),
        '',
      ].join('\n'),
    );
    process.stdout.write(`${JSON.stringify({ cold_start_ms: compiled.claim.p50, ready_ms: compiled.ready.p50, cold_start_tsx_ms: tsx.claim.p50 })}\n`);
  } finally {
    await broker.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

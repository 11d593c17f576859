import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@conveyor/testing';

const appDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Builds the API's production bundle (dist/main.js), which the compiled start and the PM2 ecosystem run. */
export function buildApi(): void {
  execFileSync('pnpm', ['run', 'build'], { cwd: appDir, stdio: 'pipe' });
}

export interface ApiProcess {
  readonly url: string;
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** How the entry point runs: its TypeScript under tsx (development), or the compiled build (production; build it first). */
export type ApiEntry = 'source' | 'compiled';
const ENTRY_ARGS: Record<ApiEntry, string[]> = { source: ['--import', 'tsx', 'src/main.ts'], compiled: ['dist/main.js'] };

/**
 * Runs the real entry point as its own process and waits until /ready answers 200; on `env.PORT`
 * when given (a restart on the same address), else a free port.
 */
export async function spawnApi(env: Record<string, string>, entry: ApiEntry = 'source'): Promise<ApiProcess> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const child = spawn(process.execPath, ENTRY_ARGS[entry], {
    cwd: appDir,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20_000)));
  child.stderr?.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20_000)));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`api exited with ${child.exitCode}: ${output}`);
    const ok = await fetch(`${url}/ready`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`api did not become ready: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    child,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return await exited;
    },
  };
}

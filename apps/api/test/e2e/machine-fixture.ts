import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort } from '@conveyor/testing';

const require = createRequire(import.meta.url);

/** The machine agent's executable (`conveyor-machine`), started as an operator would. */
export const AGENT_BIN = fileURLToPath(new URL('../../../machine/bin/conveyor-machine.js', import.meta.url));
/** The machine's stand-in `nvidia-smi`: prints NVIDIA_SMI_CSV for the agent's exact query. */
export const NVIDIA_SMI_STAND_IN_DIR = fileURLToPath(new URL('../../../machine/fixtures/bin', import.meta.url));
const PM2_CLI = join(dirname(require.resolve('pm2/package.json')), 'bin', 'pm2');
/** The ComfyUI emulator's entry point, which takes main.py's --listen/--port flags. */
const COMFYUI_EMULATOR_MAIN = join(dirname(require.resolve('@conveyor/testing')), 'emulators', 'comfyui', 'main.ts');

/**
 * A ComfyUI "installation" the agent's real installer can work with offline: a local git
 * repository holding main.py and requirements.txt, and a stand-in python. The python creates
 * venvs and accepts `pip install -r`, like the machine tests' stand-in; asked to run a `.py`
 * script (what PM2 does for `comfyui-gpuN`), it runs the ComfyUI emulator with the same flags.
 */
export function comfyUiStandIn(dir: string): { repo: string; ref: string; python: string } {
  const repo = join(dir, 'comfyui-repo');
  mkdirSync(repo, { recursive: true });
  writeFileSync(join(repo, 'main.py'), '# ComfyUI stand-in: the stand-in python runs the emulator in its place\n');
  writeFileSync(join(repo, 'requirements.txt'), '');
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], { cwd: repo, stdio: 'pipe' });
  git('init', '--quiet', '--initial-branch=master', '.');
  git('add', '.');
  git('commit', '--quiet', '-m', 'stand-in ComfyUI');
  git('tag', 'v-standin');

  const python = join(dir, 'bin', 'python3');
  mkdirSync(dirname(python), { recursive: true });
  const tsx = pathToFileURL(require.resolve('tsx')).href;
  writeFileSync(
    python,
    `#!/usr/bin/env bash
set -euo pipefail
case "\${1:-} \${2:-}" in
  "-m venv") mkdir -p "$3/bin"; cp "$0" "$3/bin/python" ;;
  "-m pip")
    shift 2
    while [ $# -gt 0 ]; do
      if [ "$1" = -r ] && [ ! -f "\${2:-}" ]; then echo "ERROR: Could not open requirements file: \${2:-}" >&2; exit 1; fi
      shift
    done ;;
  *)
    if [[ "\${1:-}" == *.py ]]; then
      shift
      exec ${JSON.stringify(process.execPath)} --import ${JSON.stringify(tsx)} ${JSON.stringify(COMFYUI_EMULATOR_MAIN)} "$@"
    fi
    echo "stand-in python: unsupported arguments: $*" >&2
    exit 2 ;;
esac
`,
  );
  chmodSync(python, 0o755);
  return { repo, ref: 'v-standin', python };
}

async function portIsFree(port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A COMFYUI_BASE_PORT whose next `count` ports are free, since GPU N's ComfyUI listens on base + N. */
export async function freePortRange(count: number): Promise<number> {
  for (;;) {
    const base = await freePort();
    const ports = Array.from({ length: count }, (_, i) => base + i);
    if (ports.every((p) => p <= 65_535) && (await Promise.all(ports.map(portIsFree))).every(Boolean)) return base;
  }
}

export function startAgent(env: NodeJS.ProcessEnv, logFile: string): ChildProcess {
  const log = openSync(logFile, 'a');
  return spawn(process.execPath, [AGENT_BIN, 'start'], { env, stdio: ['ignore', log, log] });
}

/** SIGTERM (the agent drains its workers and stops PM2), then the private PM2 daemon is killed if anything is left. */
export async function stopAgent(agent: ChildProcess | undefined, pm2Home: string): Promise<void> {
  if (agent && agent.exitCode === null && agent.signalCode === null) {
    const exited = new Promise<void>((resolve) => agent.once('exit', () => resolve()));
    agent.kill('SIGTERM');
    await Promise.race([exited, sleep(30_000).then(() => agent.kill('SIGKILL'))]);
  }
  // `pm2 kill` would first start a daemon when none runs: only ask when this PM2_HOME's daemon lives.
  try {
    process.kill(Number(readFileSync(join(pm2Home, 'pm2.pid'), 'utf8')), 0);
  } catch {
    return;
  }
  spawnSync(process.execPath, [PM2_CLI, 'kill'], { env: { ...process.env, PM2_HOME: pm2Home }, stdio: 'ignore' });
}

import { readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The pid in `file` if that process is alive and its command line contains `expect` (guards against pid reuse). */
export async function livePid(file: string, expect: string): Promise<number | undefined> {
  let pid: number;
  try {
    pid = Number((await readFile(file, 'utf8')).trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    return cmdline.includes(expect) ? pid : undefined;
  } catch {
    return pid;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Writes `pid` to `file`, making its directory first: on a fresh checkout `.conveyor/` does not exist yet. */
export async function writePid(file: string, pid: number): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${pid}\n`);
}

export async function removePid(file: string): Promise<void> {
  await rm(file, { force: true });
}

/** Sends `signal` and waits up to `timeoutMs` for the process to exit; true when it did. */
export async function stopProcess(pid: number, signal: NodeJS.Signals, timeoutMs: number): Promise<boolean> {
  try {
    process.kill(pid, signal);
  } catch {
    return true;
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(100);
  }
  return !isAlive(pid);
}

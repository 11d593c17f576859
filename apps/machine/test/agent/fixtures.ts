import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { loadAgentConfig, type AgentConfig } from '../../src/agent/env.ts';
import { InstallerError } from '../../src/agent/errors.ts';

export const FIXTURE_BIN = fileURLToPath(new URL('../../fixtures/bin', import.meta.url));

/** A temp directory removed after the file's tests. */
export function tempDir(prefix = 'conveyor-machine-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Puts the stand-in nvidia-smi and python on PATH for this test file. */
export function useStandIns(): void {
  const before = process.env.PATH;
  process.env.PATH = `${FIXTURE_BIN}${delimiter}${before ?? ''}`;
  afterAll(() => {
    process.env.PATH = before;
  });
}

export function config(env: Record<string, string>): AgentConfig {
  return loadAgentConfig({ REDIS_URL: 'redis://127.0.0.1:1', ...env });
}

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], { cwd, stdio: 'pipe' }).toString().trim();

/** A local git repository standing in for ComfyUI (or a custom node); returns its path and tagged commit. */
export function gitRepo(dir: string, files: Record<string, string>, tag: string): { path: string; commit: string } {
  git(dir, 'init', '--quiet', '--initial-branch=master', '.');
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  git(dir, 'add', '.');
  git(dir, 'commit', '--quiet', '-m', 'fixture');
  git(dir, 'tag', tag);
  return { path: dir, commit: git(dir, 'rev-parse', 'HEAD') };
}

export function addCommit(dir: string, file: string, content: string, tag: string): string {
  writeFileSync(join(dir, file), content);
  git(dir, 'add', '.');
  git(dir, 'commit', '--quiet', '-m', 'update');
  git(dir, 'tag', tag);
  return git(dir, 'rev-parse', 'HEAD');
}

export interface ModelFile {
  readonly bytes: Buffer;
  readonly sha256: string;
}

export function modelFile(size: number): ModelFile {
  const bytes = randomBytes(size);
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

export interface ModelServer {
  readonly url: string;
  /** Every request: path and Range header. */
  readonly requests: { path: string; range: string | undefined }[];
  /** The next request for `path` sends only this many bytes, then drops the connection. */
  cutNext(path: string, afterBytes: number): void;
  close(): Promise<void>;
}

/** A local HTTP server serving model files with Range support, like a CDN would. */
export async function modelServer(files: Record<string, Buffer>): Promise<ModelServer> {
  const requests: ModelServer['requests'] = [];
  const cuts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    requests.push({ path, range: req.headers.range });
    const body = files[path];
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
    if (start >= body.length && req.headers.range) {
      res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
      return;
    }
    const headers: Record<string, string | number> = { 'Content-Length': body.length - start, 'Accept-Ranges': 'bytes' };
    if (req.headers.range) headers['Content-Range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    res.writeHead(req.headers.range ? 206 : 200, headers);
    const cut = cuts.get(path);
    if (cut !== undefined) {
      cuts.delete(path);
      res.write(body.subarray(start, start + cut), () => setTimeout(() => res.socket?.destroy(), 50));
      return;
    }
    res.end(body.subarray(start));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('model server has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    cutNext: (path, afterBytes) => cuts.set(path, afterBytes),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The InstallerError a promise rejects with; anything else fails the test. */
export async function failure(promise: Promise<unknown>): Promise<InstallerError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err instanceof InstallerError) return err;
  throw new Error(`expected an InstallerError, got ${String(err)}`);
}

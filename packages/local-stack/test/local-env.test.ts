import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadLocalEnvironment } from '../src/index.ts';

let root: string | undefined;
async function checkout(files: Record<string, string>): Promise<string> {
  root = await mkdtemp(join(tmpdir(), 'conveyor-env-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(root, name), text);
  return root;
}
afterEach(async () => {
  if (root) await rm(root, { recursive: true, force: true });
  root = undefined;
});

describe('loadLocalEnvironment', () => {
  it('reads .env.local over .env, lets the environment win, and makes the shared paths absolute from the checkout', async () => {
    const dir = await checkout({
      '.env': 'LOG_LEVEL=debug\nPORT=9000\nCONVEYOR_NAMESPACE=from-env\nCONVEYOR_DATA_DIR=state\n',
      '.env.local': 'PORT=9100\n',
    });
    const env: NodeJS.ProcessEnv = { CONVEYOR_NAMESPACE: 'from-shell' };
    expect(loadLocalEnvironment(env, dir)).toBe('local');
    expect(env).toMatchObject({
      LOG_LEVEL: 'debug',
      PORT: '9100',
      CONVEYOR_NAMESPACE: 'from-shell',
      CONVEYOR_DATA_DIR: join(dir, 'state'),
      ARTIFACT_DIR: join(dir, 'state', 'artifacts'),
    });
  });

  it('resolves a relative ARTIFACT_DIR from the checkout root, whatever the working directory', async () => {
    const dir = await checkout({ '.env': 'ARTIFACT_DIR=out/artifacts\n' });
    const env: NodeJS.ProcessEnv = {};
    loadLocalEnvironment(env, dir);
    expect(env.ARTIFACT_DIR).toBe(join(dir, 'out/artifacts'));
  });

  it('reads nothing and changes nothing in server mode', async () => {
    const dir = await checkout({ '.env': 'LOG_LEVEL=debug\n' });
    const env: NodeJS.ProcessEnv = { CONVEYOR_MODE: 'server' };
    expect(loadLocalEnvironment(env, dir)).toBe('server');
    expect(env).toEqual({ CONVEYOR_MODE: 'server' });
  });

  it('a checkout without settings files runs on defaults', async () => {
    const dir = await checkout({});
    const env: NodeJS.ProcessEnv = {};
    expect(loadLocalEnvironment(env, dir)).toBe('local');
    expect(env).toEqual({ CONVEYOR_DATA_DIR: join(dir, '.conveyor'), ARTIFACT_DIR: join(dir, '.conveyor', 'artifacts') });
  });
});

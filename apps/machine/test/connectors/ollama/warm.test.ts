import { startOllamaEmulator, type OllamaEmulator } from '@conveyor/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createOllamaConnector } from '../../../src/connectors/ollama/index.ts';
import { runDirect, tempArtifactStore, testLogger } from '../harness.ts';

let emulator: OllamaEmulator;
let artifacts: Awaited<ReturnType<typeof tempArtifactStore>>;

beforeAll(async () => {
  emulator = await startOllamaEmulator({ models: ['llama3.2', 'tinyllama', 'big'], tokenMs: 1, loadMs: 50 });
  artifacts = await tempArtifactStore();
});

afterAll(async () => {
  await emulator?.stop();
  await artifacts?.remove();
});

const create = () => createOllamaConnector({ env: { OLLAMA_URL: emulator.url, OLLAMA_PS_REFRESH_MS: '60000' }, logger: testLogger });

describe('ollama warm set', () => {
  it('advertises what /api/ps says is in memory after a chat, under its full and bare name', async () => {
    const connector = await create();
    await runDirect(connector, { model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] }, { store: artifacts.store });
    expect(connector.warmth?.warmModels()).toEqual(['llama3.2:latest', 'llama3.2']);
    await connector.close?.();
  });

  it('preloads with keep_alive, so the model stays loaded after the load', async () => {
    const connector = await create();
    await connector.warmth?.preload?.('tinyllama', new AbortController().signal);
    expect(connector.warmth?.warmModels()).toContain('tinyllama');
    const until = emulator.running.get('tinyllama:latest') ?? 0;
    expect(until - Date.now()).toBeGreaterThan(9 * 60_000);
    expect(emulator.requests.at(-1)).toEqual({ path: '/api/generate', body: { model: 'tinyllama', keep_alive: '10m' } });
    await connector.close?.();
  });

  it('a cancelled preload stops at once and leaves the model unloaded', async () => {
    const slow = await startOllamaEmulator({ models: ['big'], loadMs: 30_000 });
    const connector = await createOllamaConnector({ env: { OLLAMA_URL: slow.url }, logger: testLogger });
    const controller = new AbortController();
    const started = Date.now();
    const preload = connector.warmth?.preload?.('big', controller.signal);
    setTimeout(() => controller.abort(new Error('a job arrived')), 100);
    await expect(preload).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2000);
    await vi.waitFor(() => expect(slow.abandoned).toContain('generate'));
    expect(slow.running.size).toBe(0);
    await connector.close?.();
    await slow.stop();
  });
});

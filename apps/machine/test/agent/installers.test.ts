import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorName } from '../../src/agent/catalog.ts';
import type { AgentConfig } from '../../src/agent/env.ts';
import { type InstallerError } from '../../src/agent/errors.ts';
import { installComfyUi } from '../../src/agent/installers/comfyui.ts';
import { runInstallers } from '../../src/agent/installers/index.ts';
import { addCommit, config, failure, gitRepo, modelFile, modelServer, tempDir, useStandIns, type ModelServer } from './fixtures.ts';

const logger = pino({ level: 'silent' });

function run(cfg: AgentConfig, connector: ConnectorName = 'comfyui') {
  const progress: number[] = [];
  const messages: string[] = [];
  return {
    progress,
    messages,
    result: installComfyUi({
      connector,
      config: cfg,
      env: process.env,
      logger,
      progress: (p) => {
        progress.push(p.percent);
        if (p.message) messages.push(p.message);
      },
    }),
  };
}

describe('ComfyUI installer (offline: local git, local model server, stand-in python)', () => {
  useStandIns();
  const root = tempDir();
  const pythonLog = join(root, 'python.log');
  const comfy = join(root, 'comfyui-src');
  const node = join(root, 'node-src');
  const checkpoint = modelFile(4 * 1024 * 1024);
  const vae = modelFile(64 * 1024);
  let server: ModelServer;
  let cfg: AgentConfig;

  const pipCalls = () => (existsSync(pythonLog) ? readFileSync(pythonLog, 'utf8').trim().split('\n').filter(Boolean) : []);

  beforeAll(async () => {
    process.env.STANDIN_PYTHON_LOG = pythonLog;
    mkdirSync(comfy);
    mkdirSync(node);
    gitRepo(comfy, { 'main.py': 'print("comfyui")\n', 'requirements.txt': 'torch\nsafetensors\n' }, 'v1.0.0');
    gitRepo(node, { '__init__.py': '', 'requirements.txt': 'opencv-python\n' }, 'n1');
    server = await modelServer({ '/sd.safetensors': checkpoint.bytes, '/vae.pt': vae.bytes });
    const settings = join(root, 'comfyui.json');
    writeFileSync(
      settings,
      JSON.stringify({
        customNodes: [{ name: 'example-node', repo: node, ref: 'n1' }],
        models: [
          { name: 'sd-test', url: `${server.url}/sd.safetensors`, sha256: checkpoint.sha256, path: 'checkpoints/sd.safetensors' },
          { name: 'vae-test', url: `${server.url}/vae.pt`, sha256: vae.sha256, path: 'vae/vae.pt' },
        ],
      }),
    );
    cfg = config({
      WORKER_CONNECTORS: 'comfyui',
      MACHINE_INSTALL_DIR: join(root, 'install'),
      COMFYUI_REPO_URL: comfy,
      COMFYUI_REF: 'v1.0.0',
      COMFYUI_CONFIG: settings,
    });
  });
  afterAll(async () => {
    delete process.env.STANDIN_PYTHON_LOG;
    await server.close();
  });

  it('resumes an interrupted model download with a Range request', async () => {
    server.cutNext('/sd.safetensors', 1024 * 1024);
    const first = await failure(run(cfg).result);
    expect(first.connector).toBe('comfyui');
    expect(first.message).toMatch(/step model:sd-test failed/);
    const part = join(cfg.cacheDir, 'downloads', `${checkpoint.sha256}.part`);
    const partial = readFileSync(part).length;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(checkpoint.bytes.length);

    const { result, progress, messages } = run(cfg);
    const outcome = await result;
    expect(outcome.status).toBe('done');
    // The bar moves with the bytes that arrive, and says how many.
    expect(messages).toContain('model:sd-test: 4.0 MiB of 4.0 MiB');
    expect(messages.some((m) => /^model:sd-test: [1-3]\.\d MiB of 4\.0 MiB$/.test(m))).toBe(true);
    const sdRequests = server.requests.filter((r) => r.path === '/sd.safetensors');
    expect(sdRequests.map((r) => r.range)).toEqual([undefined, `bytes=${partial}-`]);
    const installed = join(cfg.MACHINE_INSTALL_DIR, 'comfyui', 'models', 'checkpoints', 'sd.safetensors');
    expect(readFileSync(installed).equals(checkpoint.bytes)).toBe(true);
    expect(readFileSync(join(cfg.MACHINE_INSTALL_DIR, 'comfyui', 'models', 'vae', 'vae.pt')).equals(vae.bytes)).toBe(true);
    expect(existsSync(part)).toBe(false);
    expect(progress.at(-1)).toBe(100);
    expect(outcome.models).toEqual(['sd-test', 'vae-test']);
    expect(outcome.comfyui).toEqual({ dir: join(cfg.MACHINE_INSTALL_DIR, 'comfyui'), python: join(cfg.MACHINE_INSTALL_DIR, 'comfyui-venv', 'bin', 'python') });

    const marker = JSON.parse(readFileSync(join(cfg.markerDir, 'comfyui.json'), 'utf8')) as Record<string, { version: string; detail?: Record<string, string> }>;
    expect(Object.keys(marker).sort()).toEqual(['checkout', 'model:sd-test', 'model:vae-test', 'node:example-node', 'python']);
    expect(marker.checkout?.version).toBe(`${comfy}@v1.0.0`);
    expect(marker['model:sd-test']?.detail?.resumedFrom).toBe(String(partial));
  });

  it('skips everything on a second start: no git, pip or HTTP work', async () => {
    const pipBefore = pipCalls().length;
    const requestsBefore = server.requests.length;
    const { result } = run(cfg);
    expect((await result).status).toBe('skipped');
    expect(pipCalls().length).toBe(pipBefore);
    expect(server.requests.length).toBe(requestsBefore);
  });

  it('redoes only what changed: a new ComfyUI ref re-checks out, and pip runs when requirements change', async () => {
    const commit = addCommit(comfy, 'requirements.txt', 'torch\nsafetensors\naiohttp\n', 'v1.1.0');
    const pipBefore = pipCalls().length;
    const requestsBefore = server.requests.length;
    const { result } = run({ ...cfg, COMFYUI_REF: 'v1.1.0' });
    expect((await result).status).toBe('done');
    const newCalls = pipCalls().slice(pipBefore);
    expect(newCalls).toEqual([expect.stringMatching(/^-m pip install .*-r .*comfyui\/requirements\.txt$/)]);
    expect(server.requests.length).toBe(requestsBefore);
    const marker = JSON.parse(readFileSync(join(cfg.markerDir, 'comfyui.json'), 'utf8')) as Record<string, { detail?: Record<string, string> }>;
    expect(marker.checkout?.detail?.commit).toBe(commit);
  });

  it('re-downloads a model whose file was deleted, from the verified cache', async () => {
    const installed = join(cfg.MACHINE_INSTALL_DIR, 'comfyui', 'models', 'vae', 'vae.pt');
    const requestsBefore = server.requests.length;
    rmSync(installed);
    const { result } = run({ ...cfg, COMFYUI_REF: 'v1.1.0' });
    expect((await result).status).toBe('done');
    expect(readFileSync(installed).equals(vae.bytes)).toBe(true);
    expect(server.requests.length).toBe(requestsBefore);
  });

  it('fails on a checksum mismatch and keeps no partial file', async () => {
    const wrong = 'a'.repeat(64);
    const settings = join(root, 'bad.json');
    writeFileSync(settings, JSON.stringify({ models: [{ name: 'bad', url: `${server.url}/vae.pt`, sha256: wrong, path: 'vae/bad.pt' }] }));
    const err = await failure(run({ ...cfg, COMFYUI_REF: 'v1.1.0', COMFYUI_CONFIG: settings }).result);
    expect(err.code).toBe('CHECKSUM_MISMATCH');
    expect(err.message).toContain(`expected ${wrong}`);
    expect(existsSync(join(cfg.cacheDir, 'downloads', `${wrong}.part`))).toBe(false);
    expect(existsSync(join(cfg.MACHINE_INSTALL_DIR, 'comfyui', 'models', 'vae', 'bad.pt'))).toBe(false);
  });

  it('stops a step that runs past INSTALL_STEP_TIMEOUT_MS', async () => {
    process.env.STANDIN_PYTHON_SLEEP = '30';
    try {
      const fresh = { ...cfg, MACHINE_INSTALL_DIR: join(root, 'fresh'), markerDir: join(root, 'fresh', 'markers'), INSTALL_STEP_TIMEOUT_MS: 1000 };
      const err = await failure(run(fresh).result);
      expect(err.code).toBe('STEP_TIMEOUT');
      expect(err.message).toContain('comfyui python');
      expect(err.message).toContain('INSTALL_STEP_TIMEOUT_MS');
    } finally {
      delete process.env.STANDIN_PYTHON_SLEEP;
    }
  });

  it('names the config file and field when COMFYUI_CONFIG is invalid', async () => {
    const settings = join(root, 'invalid.json');
    writeFileSync(settings, JSON.stringify({ models: [{ name: 'x', url: 'not a url', sha256: 'abc', path: '../escape' }] }));
    const err = await failure(run({ ...cfg, COMFYUI_CONFIG: settings }).result);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain(`COMFYUI_CONFIG=${settings}`);
    expect(err.message).toContain('models.0.url');
    expect(err.message).toContain('models.0.sha256: must be 64 hex digits');
  });
});

describe('installer failures are per connector', () => {
  it('fails only the connector whose setting is missing, naming the variable', async () => {
    const cfg = config({ WORKER_CONNECTORS: 'simulation,openai,ollama,playwright', CHROMIUM_PATH: '/nonexistent/chromium' });
    const states: string[] = [];
    const results = await runInstallers(['simulation', 'openai', 'ollama', 'playwright'], {
      config: cfg,
      env: { OLLAMA_URL: 'localhost' },
      logger,
      onState: (s) => states.push(`${s.connector}:${s.status}`),
    });
    expect([...results.succeeded.keys()]).toEqual(['simulation']);
    expect(results.succeeded.get('simulation')?.status).toBe('skipped');
    expect(results.failed.get('openai')?.message).toBe('openai: OPENAI_API_KEY is not set; set it to an OpenAI API key (https://platform.openai.com/api-keys)');
    expect(results.failed.get('ollama')?.message).toBe('ollama: OLLAMA_URL must be an http(s) URL, e.g. http://127.0.0.1:11434');
    expect((results.failed.get('openai') as InstallerError).code).toBe('MISSING_SETTING');
    expect(results.failed.get('playwright')?.message).toContain('no executable Chromium at /nonexistent/chromium (CHROMIUM_PATH)');
    expect(states).toContain('openai:failed');
    expect(states).toContain('simulation:skipped');
  });

  it('accepts present keys and the system Chromium, passing its path to the worker', async () => {
    const cfg = config({ WORKER_CONNECTORS: 'openai,ollama,playwright' });
    const env = { OPENAI_API_KEY: 'sk-test', OLLAMA_URL: 'http://127.0.0.1:11434' };
    const results = await runInstallers(['openai', 'ollama', 'playwright'], { config: cfg, env, logger, onState: () => undefined });
    expect(results.failed.size).toBe(0);
    expect(results.succeeded.get('playwright')?.workerEnv).toEqual({ CHROMIUM_PATH: '/usr/bin/chromium' });
  });
});

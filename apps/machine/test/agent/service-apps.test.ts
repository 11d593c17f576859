import { describe, expect, it } from 'vitest';
import { buildEcosystem } from '../../src/agent/ecosystem.ts';
import { simulatedGpus } from '../../src/agent/hardware.ts';
import { placeConnectors } from '../../src/agent/plan.ts';
import { planRemoval, runningServices, serviceCaps, serviceWorkerName } from '../../src/agent/service-apps.ts';
import { config } from './fixtures.ts';

const cfg = config({ WORKER_CONNECTORS: 'comfyui,simulation:3,playwright:2', MACHINE_ID: 'box' });
const ecosystem = buildEcosystem({
  config: cfg,
  redisUrl: 'redis://127.0.0.1:6390',
  placement: placeConnectors(cfg.WORKER_CONNECTORS, simulatedGpus(2, 24_576)),
  comfyui: { dir: '/opt/comfyui', python: '/opt/comfyui/venv/bin/python' },
  models: [],
  apiWorkerEnv: {},
});

describe('which apps a runtime change touches', () => {
  it('reads the connectors and their caps from the ecosystem itself', () => {
    expect(runningServices(ecosystem)).toEqual(['comfyui', 'simulation', 'playwright']);
    const api = ecosystem.apps.find((a) => a.name === 'worker-api');
    expect(api && serviceCaps(api)).toEqual({ simulation: 3, playwright: 2 });
  });

  it('removing a GPU connector drains each GPU worker, then deletes its ComfyUI', () => {
    expect(planRemoval(ecosystem, 'comfyui')).toEqual({ workers: ['worker-gpu0', 'worker-gpu1'], backends: ['comfyui-gpu0', 'comfyui-gpu1'], rehome: [] });
  });

  it('removing a connector of the shared API worker gives each other connector a worker of its own, with its cap', () => {
    const plan = planRemoval(ecosystem, 'playwright');
    expect(plan.workers).toEqual(['worker-api']);
    expect(plan.backends).toEqual([]);
    expect(plan.rehome.map(({ service, count }) => ({ service, count }))).toEqual([{ service: 'simulation', count: 3 }]);
    expect(serviceWorkerName('simulation')).toBe('worker-simulation');
  });

  it('a runtime connector gets its own named worker', () => {
    const apps = buildEcosystem({
      config: cfg,
      redisUrl: 'redis://127.0.0.1:6390',
      placement: placeConnectors([{ name: 'ollama', count: 2 }], []),
      models: [],
      apiWorkerEnv: {},
      apiWorkerName: serviceWorkerName('ollama'),
    }).apps;
    expect(apps.map((a) => [a.name, a.env.WORKER_ID, a.env.WORKER_SERVICES, a.env.WORKER_CONCURRENCY])).toEqual([['worker-ollama', 'box:worker-ollama', 'ollama', '2']]);
    expect(apps[0]?.out_file).toMatch(/worker-ollama\.out\.log$/);
  });
});

import { readFile } from 'node:fs/promises';
import { CONTRACTS } from '@conveyor/connectors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startApi, useRedis, type TestApi } from './helpers.ts';

const redis = useRedis();
let api: TestApi;

beforeAll(async () => {
  api = await startApi(redis(), { RUNPOD_ENDPOINTS: 'img=comfyui,sim=simulation', OPENAI_MODELS: 'gpt-4o-mini=openai' });
});
afterAll(async () => {
  await api.close();
});

const post = (url: string, body: unknown) => api.app.inject({ method: 'POST', url, headers: json, payload: JSON.stringify(body) });

/** Nothing of a refused submit may reach Redis: no job, no signature, no service. */
async function expectNothingWritten(): Promise<void> {
  const stats = await api.broker.stats();
  expect(stats.queues).toEqual([]);
  expect(Object.values(stats.counts).reduce((a, b) => a + b, 0)).toBe(0);
}

describe('payloads are checked against their connector contract at submit', () => {
  it('POST /api/jobs refuses the README comfyui example of old and a bad simulation payload, naming payload.<path>', async () => {
    const comfy = await post('/api/jobs', { service: 'comfyui', payload: { workflow: {} } });
    expect(comfy.statusCode).toBe(400);
    expect(comfy.json().error).toMatchObject({ code: 'INVALID_INPUT', issues: [{ path: 'payload.workflow', message: 'has no nodes' }] });

    const sim = await post('/api/jobs', { service: 'simulation', payload: { durationMs: -5, bogus: 1 } });
    expect(sim.statusCode).toBe(400);
    expect(sim.json().error.issues.map((i: { path: string }) => i.path).sort()).toEqual(['payload.bogus', 'payload.durationMs']);
    expect(sim.json().error.message).toContain('payload.durationMs');
    await expectNothingWritten();
  });

  it('POST /api/jobs/batch refuses each bad job alone, with the same issues', async () => {
    const res = await post('/api/jobs/batch', { jobs: [{ service: 'playwright', payload: { url: 'ftp://x' } }, { service: 'comfyui', payload: { workflow: {} } }] });
    expect(res.statusCode).toBe(207);
    const { results } = res.json();
    expect(results.map((r: { status: number }) => r.status)).toEqual([400, 400]);
    expect(results[0].error.issues.map((i: { path: string }) => i.path)).toEqual(['payload.url']);
    expect(results[1].error.issues).toEqual([{ path: 'payload.workflow', message: 'has no nodes' }]);
    await expectNothingWritten();
  });

  it('the RunPod door /run and /runsync refuse it, naming input.<path>', async () => {
    for (const url of ['/v2/img/run', '/v2/img/runsync']) {
      const res = await post(url, { input: { workflow: { '1': { inputs: {} } } } });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().error).toMatch(/input\.workflow\.1\.class_type: is required/);
    }
    const sim = await post('/v2/sim/run', { input: { steps: 0 } });
    expect(sim.statusCode).toBe(400);
    expect(sim.json().error).toContain('input.steps');
    await expectNothingWritten();
  });

  it('the OpenAI door /v1 refuses a request whose job payload the connector would refuse, naming the parameter', async () => {
    const res = await post('/v1/chat/completions', {
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      response_format: { type: 'json_schema', json_schema: { name: 'has spaces' } },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ type: 'invalid_request_error', param: 'response_format.json_schema.name' });
    await expectNothingWritten();
  });

  it('accepts every contract example, and any payload of a service without a contract', async () => {
    for (const [service, contract] of Object.entries(CONTRACTS)) {
      const res = await post('/api/jobs', { service, payload: contract.example });
      expect(res.statusCode, `${service}: ${res.body}`).toBe(201);
    }
    const custom = await post('/api/jobs', { service: 'my-custom-connector', payload: { workflow: {}, anything: [1, 2] } });
    expect(custom.statusCode).toBe(201);
  });
});

it("the README's comfyui submit example is a workflow the contract accepts", async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const body = /-d @- <<'JSON'\n([\s\S]*?)\nJSON/.exec(readme)?.[1];
  expect(body).toBeDefined();
  const job = JSON.parse(body ?? '') as { service: string; payload: unknown };
  expect(job.service).toBe('comfyui');
  expect(CONTRACTS.comfyui.payload.safeParse(job.payload).success).toBe(true);
});

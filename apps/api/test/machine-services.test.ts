import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { FleetRegistry, type MachineState, type ServiceOperation } from '@conveyor/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startApi, useRedis, type TestApi } from './helpers.ts';

const run = promisify(execFile);
const appDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const redis = useRedis();
const namespace = `ms${randomUUID().slice(0, 6)}`;
let api: TestApi;
let admin: Record<string, string>;
/** No content-type: a DELETE has no body. */
let adminAuth: Record<string, string>;

beforeAll(async () => {
  api = await startApi(redis(), { CONVEYOR_MODE: 'server', CONVEYOR_AUTH_CACHE_MS: '0' }, namespace);
  adminAuth = { authorization: `Bearer ${await api.key('ops', true)}` };
  admin = { ...json, ...adminAuth };
});
afterAll(async () => {
  await api.close();
});

/** A machine as an agent publishes it. */
async function machine(id: string, patch: Partial<MachineState> = {}): Promise<MachineState> {
  const state: MachineState = {
    machineId: id,
    status: 'ready',
    hostname: 'h',
    connectors: ['simulation'],
    hardware: { cpuModel: 'cpu', cpuCores: 2, memoryMb: 1024, gpus: [] },
    installers: [],
    workers: [`${id}:worker-api`],
    addable: ['comfyui', 'ollama', 'openai', 'playwright', 'replicate', 'runpod', 'simulation'],
    startedAt: Date.now(),
    updatedAt: Date.now(),
    ...patch,
  };
  await api.broker.fleet.putMachine(state);
  return state;
}

/** Everything on a machine's command stream, without waiting. */
const commands = async (id: string) =>
  (await api.broker.redis.xrange(api.broker.keys.machineCommands(id), '-', '+')).map(([, fields]) => JSON.parse(fields[1] ?? 'null') as unknown);

describe('POST /api/machines/:id/services and DELETE /api/machines/:id/services/:service', () => {
  it('queues an add on the machine command stream and answers 202 with the operation', async () => {
    await machine('m-add');
    const res = await api.app.inject({ method: 'POST', url: '/api/machines/m-add/services', headers: admin, payload: { service: 'playwright', count: 2 } });
    expect(res.statusCode).toBe(202);
    const body = res.json<{ machineId: string; operation: { id: string; status: string } }>();
    expect(body).toMatchObject({ machineId: 'm-add', operation: { action: 'add', service: 'playwright', status: 'queued' } });
    expect(await commands('m-add')).toEqual([{ type: 'add-service', id: body.operation.id, service: 'playwright', count: 2, requestedAt: expect.any(Number) }]);
  });

  it('queues a remove', async () => {
    await machine('m-rm');
    const res = await api.app.inject({ method: 'DELETE', url: '/api/machines/m-rm/services/simulation', headers: adminAuth });
    expect(res.statusCode).toBe(202);
    expect((await commands('m-rm'))[0]).toMatchObject({ type: 'remove-service', service: 'simulation' });
  });

  it('refuses bad requests with the field or reason, and queues nothing', async () => {
    await machine('m-bad', { operations: [{ id: 'o1', action: 'add', service: 'ollama', origin: 'operator', status: 'installing', requestedAt: 1 }] });
    const post = (id: string, payload: unknown, headers = admin) => api.app.inject({ method: 'POST', url: `/api/machines/${id}/services`, headers, payload: payload as object });
    const unknown = await post('m-bad', { service: 'nope' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({ error: { code: 'INVALID_INPUT', issues: [{ path: 'service', message: expect.stringContaining('can add: comfyui') }] } });
    expect((await post('m-bad', { service: 'playwright', count: 0 })).json()).toMatchObject({ error: { issues: [{ path: 'count' }] } });
    expect((await post('m-bad', { service: 'playwright', extra: 1 })).statusCode).toBe(400);
    expect((await post('m-bad', { service: 'simulation' })).json()).toMatchObject({ error: { code: 'SERVICE_ALREADY_RUNS' } });
    expect((await post('m-bad', { service: 'ollama' })).json()).toMatchObject({ error: { code: 'SERVICE_CHANGE_PENDING' } });
    expect((await post('m-none', { service: 'playwright' })).statusCode).toBe(404);
    const del = await api.app.inject({ method: 'DELETE', url: '/api/machines/m-bad/services/playwright', headers: adminAuth });
    expect(del.statusCode).toBe(404);
    expect(del.json<{ error: { message: string } }>().error.message).toContain('it runs simulation');
    await machine('m-draining', { status: 'draining' });
    expect((await post('m-draining', { service: 'playwright' })).json()).toMatchObject({ error: { code: 'MACHINE_UNAVAILABLE' } });
    const tenant = { ...json, authorization: `Bearer ${await api.key('acme')}` };
    expect((await post('m-bad', { service: 'playwright' }, tenant)).statusCode).toBe(403);
    expect(await commands('m-bad')).toEqual([]);
    expect(await commands('m-draining')).toEqual([]);
  });

  it('GET /api/machines/:id shows the machine and its operations', async () => {
    await machine('m-get');
    const res = await api.app.inject({ url: '/api/machines/m-get', headers: adminAuth });
    expect(res.json()).toMatchObject({ machine: { machineId: 'm-get', connectors: ['simulation'] } });
    expect((await api.app.inject({ url: '/api/machines/m-unknown', headers: adminAuth })).statusCode).toBe(404);
  });
});

describe('pnpm conveyor machines services', () => {
  const conveyor = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
        cwd: appDir,
        env: { ...process.env, REDIS_URL: redis().url, CONVEYOR_NAMESPACE: namespace },
      });
      return { out: JSON.parse(stdout) as unknown, code: 0, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { out: e.stdout ? (JSON.parse(e.stdout) as unknown) : undefined, code: e.code, stderr: e.stderr };
    }
  };

  /** Plays the machine's side of the protocol: takes the next command and reports its operation through two steps. */
  async function actAsMachine(id: string, state: MachineState, outcome: Partial<ServiceOperation>): Promise<void> {
    const reader = api.broker.redis.duplicate();
    const [received] = await FleetRegistry.readServiceCommands(reader, api.broker.keys, id, '0', 20_000);
    reader.disconnect();
    const command = received?.command;
    if (!command) throw new Error('no command arrived');
    const base = { id: command.id, service: command.service, origin: 'operator' as const, requestedAt: command.requestedAt, action: command.type === 'add-service' ? ('add' as const) : ('remove' as const) };
    await api.broker.fleet.putMachine({ ...state, operations: [{ ...base, status: 'installing', progress: { percent: 40, message: 'chromium' } }] });
    await new Promise((r) => setTimeout(r, 600));
    await api.broker.fleet.putMachine({ ...state, operations: [{ ...base, status: 'done', finishedAt: Date.now(), ...outcome }] });
  }

  it('adds a service and follows its progress to the end', async () => {
    const state = await machine('m-cli');
    const [result] = await Promise.all([conveyor('machines', 'services', 'add', 'm-cli', 'playwright'), actAsMachine('m-cli', state, { apps: ['worker-playwright'] })]);
    expect(result.code).toBe(0);
    expect(result.out).toMatchObject({ action: 'add', service: 'playwright', status: 'done', apps: ['worker-playwright'] });
    expect(result.stderr).toContain('add playwright: installing 40% chromium');
  });

  it('exits 1 when the machine reports the change failed', async () => {
    const state = await machine('m-cli-fail');
    const [result] = await Promise.all([conveyor('machines', 'services', 'remove', 'm-cli-fail', 'simulation'), actAsMachine('m-cli-fail', state, { status: 'failed', error: 'boom' })]);
    expect(result.code).toBe(1);
    expect(result.out).toMatchObject({ status: 'failed', error: 'boom' });
  });

  it('--no-wait returns the queued operation; refusals are errors naming the reason', async () => {
    await machine('m-cli-nowait');
    expect((await conveyor('machines', 'services', 'add', 'm-cli-nowait', 'ollama', '--count', '2', '--no-wait')).out).toMatchObject({
      operation: { action: 'add', service: 'ollama', status: 'queued' },
    });
    const refused = await conveyor('machines', 'services', 'add', 'm-cli-nowait', 'simulation');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('simulation already runs on machine m-cli-nowait');
    expect((await conveyor('machines', 'services', 'add', 'm-cli-nowait', 'ollama', '--count', 'x')).stderr).toContain('--count must be a whole number');
  });
});

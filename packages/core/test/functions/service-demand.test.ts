import { describe, expect, it } from 'vitest';
import { useRedis, worker } from '../helpers.ts';

const redis = useRedis();

describe('serviceDemand', () => {
  it('reports jobs of a service no class has served: no live worker, waiting since the job became pending', async () => {
    const broker = await redis.broker();
    const { id } = await broker.submit({ service: 'shots', payload: 1 });
    const pendingSince = (await broker.get(id))!.job.createdAt;
    const demand = await broker.serviceDemand(['shots', 'idle-service']);
    expect(demand.services).toEqual([
      { service: 'shots', liveWorkers: 0, waitingSince: pendingSince },
      { service: 'idle-service', liveWorkers: 0 },
    ]);
    expect(demand.now).toBeGreaterThanOrEqual(pendingSince);
  });

  it('counts live workers of the service, and still sees the waiting work once they are gone', async () => {
    const broker = await redis.broker();
    const w = broker.identify(worker('w', { services: ['shots'] }));
    await broker.heartbeat(w);
    expect((await broker.serviceDemand(['shots'])).services).toEqual([{ service: 'shots', liveWorkers: 1 }]);
    const { id } = await broker.submit({ service: 'shots', payload: 1 });
    const pendingSince = (await broker.get(id))!.job.createdAt;
    expect((await broker.serviceDemand(['shots'])).services).toEqual([{ service: 'shots', liveWorkers: 1, waitingSince: pendingSince }]);
    await broker.deregister(w);
    expect((await broker.serviceDemand(['shots'])).services).toEqual([{ service: 'shots', liveWorkers: 0, waitingSince: pendingSince }]);
    const [claimed] = await broker.claim(broker.identify(worker('w2', { services: ['shots'] })), 1);
    expect(claimed?.job.id).toBe(id);
    expect((await broker.serviceDemand(['shots'])).services[0]).not.toHaveProperty('waitingSince');
  });

  it('rejects a bad service name naming it, and answers nothing for none', async () => {
    const broker = await redis.broker();
    await expect(broker.serviceDemand(['Bad Name'])).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(broker.serviceDemand([])).resolves.toMatchObject({ services: [] });
  });
});

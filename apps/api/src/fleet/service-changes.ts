import { randomUUID } from 'node:crypto';
import { ServiceName, type FleetRegistry, type MachineState, type ServiceOperation } from '@conveyor/core';
import { z } from 'zod';
import { ApiError } from '../errors.ts';

/** Body of `POST /api/machines/:id/services`; `count` as in WORKER_CONNECTORS (GPUs, or the job cap), absent = auto. */
export const AddServiceBody = z
  .object({
    service: ServiceName,
    count: z.number().int().min(1).max(1000).optional(),
  })
  .strict();
export type AddServiceBody = z.infer<typeof AddServiceBody>;

export interface ServiceChange {
  readonly action: ServiceOperation['action'];
  readonly service: string;
  readonly count?: number;
}

export interface QueuedChange {
  readonly machineId: string;
  readonly operation: Pick<ServiceOperation, 'id' | 'action' | 'service' | 'status' | 'requestedAt'>;
}

const ACCEPTS_CHANGES: readonly MachineState['status'][] = ['starting', 'installing', 'ready'];

/** Why a machine cannot take this change now, or undefined; checked against the state it publishes. */
function refusal(machine: MachineState, change: ServiceChange): ApiError | undefined {
  const id = machine.machineId;
  if (!ACCEPTS_CHANGES.includes(machine.status)) {
    return new ApiError(409, 'MACHINE_UNAVAILABLE', `machine ${id} is ${machine.status}; services change only on a running machine`);
  }
  if (!machine.addable) return new ApiError(409, 'MACHINE_UNAVAILABLE', `machine ${id} runs a version that cannot change its services at runtime`);
  const pending = machine.operations?.find((o) => o.service === change.service && o.status !== 'done' && o.status !== 'failed');
  if (pending) return new ApiError(409, 'SERVICE_CHANGE_PENDING', `machine ${id} is already changing ${change.service} (operation ${pending.id}, ${pending.status})`);
  if (change.action === 'add' && !machine.addable.includes(change.service)) {
    return ApiError.invalid([{ path: 'service', message: `unknown connector "${change.service}"; machine ${id} can add: ${machine.addable.join(', ')}` }]);
  }
  if (change.action === 'add' && machine.connectors.includes(change.service)) {
    return new ApiError(409, 'SERVICE_ALREADY_RUNS', `${change.service} already runs on machine ${id}`);
  }
  if (change.action === 'remove' && !machine.connectors.includes(change.service)) {
    return new ApiError(404, 'NOT_FOUND', `${change.service} does not run on machine ${id} (it runs ${machine.connectors.join(', ') || 'nothing'})`);
  }
  return undefined;
}

/**
 * Asks a machine to add or remove a connector: checked against the state the machine publishes,
 * then queued on its command stream. The machine carries it out and reports progress in its
 * `operations` (GET /api/machines/:id); this returns as soon as the command is queued.
 */
export async function requestServiceChange(fleet: FleetRegistry, machineId: string, change: ServiceChange): Promise<QueuedChange> {
  const machine = await fleet.machine(machineId);
  if (!machine) throw ApiError.notFound(`machine ${machineId}`);
  const refused = refusal(machine, change);
  if (refused) throw refused;
  const id = randomUUID();
  const requestedAt = Date.now();
  await fleet.sendServiceCommand(
    machineId,
    change.action === 'add'
      ? { type: 'add-service', id, service: change.service, count: change.count, requestedAt }
      : { type: 'remove-service', id, service: change.service, requestedAt },
  );
  return { machineId, operation: { id, action: change.action, service: change.service, status: 'queued', requestedAt } };
}

import { setTimeout as sleep } from 'node:timers/promises';
import type { FleetRegistry, ServiceOperation } from '@conveyor/core';
import { requestServiceChange, type QueuedChange, type ServiceChange } from '../fleet/service-changes.ts';

const POLL_MS = 250;

function summary(op: ServiceOperation): string {
  const progress = op.progress ? ` ${Math.round(op.progress.percent)}%${op.progress.message ? ` ${op.progress.message}` : ''}` : '';
  return `${op.action} ${op.service}: ${op.status}${progress}${op.error ? ` (${op.error})` : ''}`;
}

/**
 * `pnpm conveyor machines services add|remove`: the same checks and command as the API route, then
 * (unless told not to wait) the operation's progress on stderr, one line per change, until it is
 * done or failed; the final operation is the answer, and a failed one sets the exit code.
 */
export async function followServiceChange(fleet: FleetRegistry, machineId: string, change: ServiceChange, wait: boolean): Promise<QueuedChange | ServiceOperation> {
  const queued = await requestServiceChange(fleet, machineId, change);
  if (!wait) return queued;
  let shown = '';
  for (;;) {
    const machine = await fleet.machine(machineId);
    if (!machine || machine.status === 'offline' || machine.status === 'stopped') {
      throw new Error(`machine ${machineId} is ${machine?.status ?? 'gone'} before finishing operation ${queued.operation.id}`);
    }
    const op = machine.operations?.find((o) => o.id === queued.operation.id);
    if (op) {
      const line = summary(op);
      if (line !== shown) process.stderr.write(`${line}\n`);
      shown = line;
      if (op.status === 'failed') process.exitCode = 1;
      if (op.status === 'done' || op.status === 'failed') return op;
    }
    await sleep(POLL_MS);
  }
}

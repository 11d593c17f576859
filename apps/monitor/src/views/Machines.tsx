import type { WorkerState } from '../protocol.ts';
import { useFleet, useServerNow } from '../state/hooks.ts';
import { Empty } from '../ui/Panel.tsx';
import { StatusBadge } from '../ui/StatusBadge.tsx';
import { liveStatus } from '../state/fleet-store.ts';
import { MachineCard } from './MachineCard.tsx';

export function Machines() {
  const fleet = useFleet();
  const now = useServerNow();
  const byMachine = new Map<string, WorkerState[]>();
  for (const w of fleet.workers.values()) byMachine.set(w.machineId, [...(byMachine.get(w.machineId) ?? []), w]);
  const machines = [...fleet.machines.values()].sort((a, b) => a.machineId.localeCompare(b.machineId));
  // Worker processes started on their own (without the machine agent) have no machine entry.
  const unregistered = [...byMachine].filter(([id]) => !fleet.machines.has(id)).sort(([a], [b]) => a.localeCompare(b));

  return (
    <div className="view">
      {machines.length === 0 && unregistered.length === 0 && <Empty>No machine has registered yet. Start one with `pnpm machine:local:up` or `pnpm dev`.</Empty>}
      <div className="cards">
        {machines.map((m) => (
          <MachineCard key={m.machineId} machine={m} workers={byMachine.get(m.machineId) ?? []} now={now} />
        ))}
        {unregistered.map(([id, workers]) => (
          <article key={id} className="card machine" aria-label={`machine ${id}`}>
            <header className="card-header">
              <div>
                <h3 className="mono">{id}</h3>
                <div className="muted small">no machine agent · standalone worker processes</div>
              </div>
            </header>
            <ul className="worker-chips">
              {workers.map((w) => (
                <li key={w.workerId}>
                  <span className="mono small">{w.workerId}</span> <StatusBadge status={liveStatus(w, now)} />
                </li>
              ))}
            </ul>
          </article>
        ))}
      </div>
    </div>
  );
}

import type { Gpu, GpuServiceState, InstallerState, MachineState, WorkerState } from '../protocol.ts';
import { liveStatus } from '../state/fleet-store.ts';
import { formatAgo, formatDuration, formatMb } from '../ui/format.ts';
import { ProgressBar } from '../ui/ProgressBar.tsx';
import { StatusBadge } from '../ui/StatusBadge.tsx';
import { MachineServices } from './MachineServices.tsx';

function Installer({ installer }: { readonly installer: InstallerState }) {
  const percent = installer.progress?.percent ?? (installer.status === 'done' || installer.status === 'skipped' ? 100 : 0);
  const tone = installer.status === 'failed' ? 'failed' : installer.status === 'running' ? 'active' : installer.status === 'pending' ? 'muted' : 'done';
  return (
    <li className="installer">
      <div className="installer-head">
        <span className="mono">{installer.connector}</span>
        <StatusBadge status={installer.status} />
      </div>
      <ProgressBar percent={percent} tone={tone} size="sm" label={`${installer.connector} installer`} />
      {(installer.error ?? installer.progress?.message) && <div className={installer.error ? 'text-bad small' : 'muted small'}>{installer.error ?? installer.progress?.message}</div>}
    </li>
  );
}

function GpuRow({ gpu, services }: { readonly gpu: Gpu; readonly services: readonly GpuServiceState[] }) {
  const used = gpu.memoryFreeMb === undefined ? undefined : gpu.memoryMb - gpu.memoryFreeMb;
  return (
    <li className="gpu">
      <div className="gpu-head">
        <span>
          <b>GPU {gpu.index}</b> {gpu.name}
          {services.map((s) => (
            <span key={s.service} className="gpu-service" title={`${s.service} on GPU ${gpu.index}: ${s.status === 'ready' ? 'answers its health check' : 'not answering its health check yet'}`}>
              {' '}
              <span className="mono small">{s.service}</span> <StatusBadge status={s.status} />
            </span>
          ))}
        </span>
        <span className="muted small">{used === undefined ? formatMb(gpu.memoryMb) : `${formatMb(used)} / ${formatMb(gpu.memoryMb)}`}</span>
      </div>
      {used !== undefined && <ProgressBar percent={(100 * used) / Math.max(1, gpu.memoryMb)} tone="muted" size="sm" label={`GPU ${gpu.index} memory used`} />}
    </li>
  );
}

export interface MachineCardProps {
  readonly machine: MachineState;
  readonly workers: readonly WorkerState[];
  readonly now: number;
}

/** One machine: status, installers with progress, hardware and GPUs, connectors, its workers, last heartbeat. */
export function MachineCard({ machine, workers, now }: MachineCardProps) {
  const status = liveStatus(machine, now);
  const installing = machine.installers.some((i) => i.status === 'running' || i.status === 'pending');
  const byId = new Map(workers.map((w) => [w.workerId, w]));
  const workerIds = [...new Set([...machine.workers, ...workers.map((w) => w.workerId)])].sort();
  const { hardware } = machine;
  return (
    <article className={`card machine status-${status}`} aria-label={`machine ${machine.machineId}`}>
      <header className="card-header">
        <div>
          <h3 className="mono">{machine.machineId}</h3>
          <div className="muted small">
            {machine.hostname}
            {machine.pool && ` · pool ${machine.pool}`} · up {formatDuration(now - machine.startedAt)}
          </div>
        </div>
        <div className="card-header-side">
          <StatusBadge status={status} />
          <div className="muted small" title="last heartbeat">
            ♥ {formatAgo(machine.lastSeen ?? machine.updatedAt, now)}
          </div>
        </div>
      </header>
      <dl className="facts">
        <dt>CPU</dt>
        <dd>
          {hardware.cpuModel} · {hardware.cpuCores} cores
        </dd>
        <dt>Memory</dt>
        <dd>
          {formatMb(hardware.memoryMb)}
          {hardware.diskFreeMb !== undefined && ` · ${formatMb(hardware.diskFreeMb)} disk free`}
        </dd>
      </dl>
      <MachineServices machine={machine} />
      {hardware.gpus.length > 0 && (
        <>
          <h4>GPUs</h4>
          <ul className="gpus">
            {hardware.gpus.map((g) => (
              <GpuRow key={g.index} gpu={g} services={(machine.gpuServices ?? []).filter((s) => s.gpu === g.index)} />
            ))}
          </ul>
        </>
      )}
      {machine.installers.length > 0 && (
        <>
          <h4>Installers{installing && <span className="muted small"> · installing</span>}</h4>
          <ul className="installers">
            {machine.installers.map((i) => (
              <Installer key={i.connector} installer={i} />
            ))}
          </ul>
        </>
      )}
      <h4>Workers</h4>
      {workerIds.length === 0 ? (
        <p className="muted small">none yet</p>
      ) : (
        <ul className="worker-chips">
          {workerIds.map((id) => {
            const w = byId.get(id);
            return (
              <li key={id}>
                <span className="mono small">{id}</span> {w ? <StatusBadge status={liveStatus(w, now)} /> : <span className="muted small">not reporting</span>}
              </li>
            );
          })}
        </ul>
      )}
    </article>
  );
}

import { liveStatus } from '../state/fleet-store.ts';
import { useFleet, useServerNow } from '../state/hooks.ts';
import { formatAgo, formatCount } from '../ui/format.ts';
import { Empty, Panel } from '../ui/Panel.tsx';
import { ProgressBar } from '../ui/ProgressBar.tsx';
import { href } from '../ui/router.ts';
import { StatusBadge } from '../ui/StatusBadge.tsx';
import { ModelTimes } from './ModelTimes.tsx';

export function Workers() {
  const fleet = useFleet();
  const now = useServerNow();
  const workers = [...fleet.workers.values()].sort((a, b) => a.machineId.localeCompare(b.machineId) || a.workerId.localeCompare(b.workerId));
  return (
    <div className="view">
      <Panel title={`Workers (${workers.length})`}>
        {workers.length === 0 ? (
          <Empty>No worker is reporting.</Empty>
        ) : (
          <table className="table" aria-label="Workers">
            <thead>
              <tr>
                <th>Worker</th>
                <th>Machine</th>
                <th>Services</th>
                <th>State</th>
                <th>Warm models</th>
                <th className="wide">Current jobs</th>
                <th className="num">Done</th>
                <th className="num">Errors</th>
                <th>Last seen</th>
              </tr>
            </thead>
            <tbody>
              {workers.map((w) => {
                const status = liveStatus(w, now);
                return (
                  <tr key={w.workerId} data-worker={w.workerId}>
                    <td className="mono">
                      {w.workerId}
                      {w.gpuIndex !== undefined && <span className="chip">GPU {w.gpuIndex}</span>}
                    </td>
                    <td className="mono">{w.machineId}</td>
                    <td>
                      <div className="chips">
                        {w.services.map((s) => (
                          <span key={s} className="chip">
                            {s}
                          </span>
                        ))}
                      </div>
                    </td>
                    <td>
                      <StatusBadge status={status} />
                      <div className="muted small">
                        {w.currentJobs.length} / {w.concurrency} slots
                      </div>
                    </td>
                    <td data-warm={w.workerId}>
                      {w.warming && <div className="chip warming">warming {w.warming}</div>}
                      {(w.warmModels ?? []).length === 0 ? (
                        !w.warming && <span className="muted">—</span>
                      ) : (
                        <div className="chips">
                          {(w.warmModels ?? []).map((m) => (
                            <span key={m} className="chip mono">
                              {m}
                            </span>
                          ))}
                        </div>
                      )}
                    </td>
                    <td>
                      {w.currentJobs.length === 0 ? (
                        <span className="muted">—</span>
                      ) : (
                        <ul className="current-jobs">
                          {w.currentJobs.map((j) => (
                            <li key={j.id}>
                              <a className="mono small" href={href(`/jobs/${j.id}`)}>
                                {j.id}
                              </a>
                              <ProgressBar percent={j.progress?.percent ?? 0} size="sm" label={`job ${j.id} progress`} />
                              {j.progress?.message && <span className="muted small">{j.progress.message}</span>}
                            </li>
                          ))}
                        </ul>
                      )}
                    </td>
                    <td className="num">{formatCount(w.jobsDone)}</td>
                    <td className={`num ${w.jobsFailed > 0 ? 'text-bad' : ''}`}>{formatCount(w.jobsFailed)}</td>
                    <td className="small">{formatAgo(w.lastSeen ?? w.updatedAt, now)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </Panel>
      <ModelTimes />
    </div>
  );
}

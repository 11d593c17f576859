import { useEffect, useState } from 'react';
import type { ServiceStatsResponse } from '../protocol.ts';
import { useFleet, useSession } from '../state/hooks.ts';
import { formatCount, formatDuration, formatMb } from '../ui/format.ts';
import { Empty, Panel } from '../ui/Panel.tsx';

/** How often the averages are fetched again: they move with every run, slowly. */
const REFRESH_MS = 5000;

/**
 * Run and load time averages per service, model and hardware kind (capability class), from
 * `GET /api/services/:name/stats`: what a warm run and a cold start cost.
 */
export function ModelTimes() {
  const session = useSession();
  const fleet = useFleet();
  const services = [...new Set([...fleet.workers.values()].flatMap((w) => w.services))].sort().join(',');
  const [stats, setStats] = useState<ServiceStatsResponse[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let alive = true;
    const load = () => {
      const names = services === '' ? [] : services.split(',');
      Promise.all(names.map((s) => session.api.serviceStats(s))).then(
        (all) => {
          if (!alive) return;
          setStats(all);
          setError(null);
        },
        (err: unknown) => alive && setError(err instanceof Error ? err.message : String(err)),
      );
    };
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, [session, services]);

  const rows = stats.flatMap((s) => s.models.map((m) => ({ ...m, service: s.service, gpuMemoryMb: s.classes[m.classId]?.gpuMemoryMb })));
  return (
    <Panel title="Model run and load times">
      {error && <p className="text-bad small">{error}</p>}
      {rows.length === 0 ? (
        <Empty>No run has been timed yet.</Empty>
      ) : (
        <table className="table" aria-label="Model run and load times">
          <thead>
            <tr>
              <th>Service</th>
              <th>Model</th>
              <th>Hardware</th>
              <th className="num">Run (avg)</th>
              <th className="num">Load (avg)</th>
              <th className="num">Runs</th>
              <th className="num">Loads</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={`${r.service}|${r.classId}|${r.model}`} data-model={r.model}>
                <td>{r.service}</td>
                <td className="mono">{r.model || <span className="muted">none</span>}</td>
                <td className="small">
                  {r.gpuMemoryMb !== undefined ? `GPU ${formatMb(r.gpuMemoryMb)}` : 'no GPU'} <span className="muted mono">{r.classId.slice(0, 8)}</span>
                </td>
                <td className="num">{r.runs > 0 ? formatDuration(r.runMs) : '—'}</td>
                <td className="num">{r.loads > 0 ? formatDuration(r.loadMs) : '—'}</td>
                <td className="num">{formatCount(r.runs)}</td>
                <td className="num">{formatCount(r.loads)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Panel>
  );
}

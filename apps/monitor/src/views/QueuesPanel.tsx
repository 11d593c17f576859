import { serviceColor } from '../charts/colors.ts';
import { TimeChart } from '../charts/TimeChart.tsx';
import { useFleet } from '../state/hooks.ts';
import { chartStart, SAMPLE_MS } from '../state/metrics.ts';
import { formatCount, formatDuration } from '../ui/format.ts';
import { Empty, Panel } from '../ui/Panel.tsx';
import { perServiceSeries } from './overview-data.ts';

function requirementsText(requirements: Record<string, unknown>): string {
  const entries = Object.entries(requirements);
  return entries.length === 0 ? 'any worker' : entries.map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', ');
}

/** Queue depth and oldest waiting job per service, over time and per requirement signature now. */
export function QueuesPanel({ now }: { readonly now: number }) {
  const fleet = useFleet();
  const history = fleet.queueHistory.all;
  const depth = perServiceSeries(history, (s) => s.depth);
  const oldest = perServiceSeries(history, (s) => s.oldestMs);
  const queues = [...(fleet.queues?.queues ?? [])].sort((a, b) => b.depth - a.depth || a.spec.service.localeCompare(b.spec.service));
  const since = history[0]?.t;
  const from = chartStart(now, since);

  return (
    <Panel title="Queues" actions={<span className="muted">{since !== undefined ? `sampled every ${SAMPLE_MS / 1000} s since this page opened` : 'waiting for the first sample'}</span>}>
      <div className="grid-2 flat">
        <div>
          <h3>Waiting jobs by service</h3>
          <TimeChart
            label="Queue depth per service"
            from={from}
            to={now}
            format={(v) => formatCount(Math.round(v))}
            minMax={5}
            maxGapMs={3 * SAMPLE_MS}
            series={[...depth].map(([name, points]) => ({ name, color: serviceColor(name), points }))}
          />
        </div>
        <div>
          <h3>Oldest waiting job by service</h3>
          <TimeChart
            label="Age of the oldest waiting job per service"
            from={from}
            to={now}
            format={(v) => (v === 0 ? '0' : formatDuration(v))}
            minMax={10_000}
            maxGapMs={3 * SAMPLE_MS}
            series={[...oldest].map(([name, points]) => ({ name, color: serviceColor(name), points }))}
          />
        </div>
      </div>
      {queues.length === 0 ? (
        <Empty>No jobs are waiting.</Empty>
      ) : (
        <table className="table compact" aria-label="Queues now">
          <thead>
            <tr>
              <th>Service</th>
              <th>Tenant</th>
              <th>Requirements</th>
              <th className="num">Waiting</th>
              <th className="num">Oldest</th>
              <th className="num">Workers able</th>
            </tr>
          </thead>
          <tbody>
            {queues.map((q) => (
              <tr key={q.sig} className={q.depth > 0 && q.liveWorkers === 0 ? 'row-warn' : undefined}>
                <td>
                  <i className="swatch" style={{ background: serviceColor(q.spec.service) }} />
                  {q.spec.service}
                </td>
                <td>{q.spec.tenant}</td>
                <td className="mono small">{requirementsText(q.spec.requirements)}</td>
                <td className="num">{formatCount(q.depth)}</td>
                <td className="num">{q.depth > 0 ? formatDuration(now - q.oldestPendingSince) : '—'}</td>
                <td className="num" title={q.liveWorkers === 0 ? 'no live worker can run these jobs' : undefined}>
                  {q.liveWorkers === 0 && q.depth > 0 ? <span className="text-warn">none</span> : q.liveWorkers}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Panel>
  );
}

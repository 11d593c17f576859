import { COLORS } from '../charts/colors.ts';
import { StackedBar } from '../charts/StackedBar.tsx';
import { TimeChart } from '../charts/TimeChart.tsx';
import { liveStatus, queueSample, workerCounts } from '../state/fleet-store.ts';
import { useFleet, useServerNow } from '../state/hooks.ts';
import { chartStart, failureRate, SAMPLE_MS, WINDOW_MS } from '../state/metrics.ts';
import { formatClock, formatCount, formatDuration, formatPercent, formatRate } from '../ui/format.ts';
import { Panel, Stat } from '../ui/Panel.tsx';
import { failureRatePoints, throughputPoints } from './overview-data.ts';
import { QueuesPanel } from './QueuesPanel.tsx';

export function Overview() {
  const fleet = useFleet();
  const now = useServerNow(2000);
  const { throughput } = fleet;
  const from = chartStart(now, throughput.coveredSince ?? throughput.first());
  const buckets = throughput.series(now).filter((b) => b.start >= from);
  const points = throughputPoints(buckets);
  const totals = throughput.totals(now);
  const rate = failureRate(totals.completed, totals.failed);
  const sample = fleet.queues ? queueSample(fleet.queues, now) : { depth: {}, oldestMs: {} };
  const waiting = Object.values(sample.depth).reduce((a, b) => a + b, 0);
  const oldest = Math.max(0, ...Object.values(sample.oldestMs));
  const workers = workerCounts(fleet.workers.values(), now);
  const machines = [...fleet.machines.values()];
  const ready = machines.filter((m) => liveStatus(m, now) === 'ready').length;
  const workerHistory = fleet.workerHistory.all;
  const workersFrom = chartStart(now, workerHistory[0]?.t);
  const span = from <= now - WINDOW_MS ? 'last hour' : `since ${formatClock(from)}`;

  return (
    <div className="view">
      <div className="stats">
        <Stat label="Completed / s" value={formatRate(throughput.rate(now, 'completed'))} detail="last minute" />
        <Stat label="Failed / s" value={formatRate(throughput.rate(now, 'failed'))} detail="last minute" tone={throughput.rate(now, 'failed') > 0 ? 'bad' : undefined} />
        <Stat
          label="Failure rate"
          value={formatPercent(rate)}
          detail={`${formatCount(totals.failed)} of ${formatCount(totals.completed + totals.failed)} in the last hour`}
          tone={rate !== null && rate > 0.05 ? 'bad' : undefined}
        />
        <Stat label="Waiting jobs" value={formatCount(waiting)} detail={waiting > 0 ? `oldest ${formatDuration(oldest)}` : 'queues empty'} tone={oldest > 60_000 ? 'warn' : undefined} />
        <Stat label="Workers busy" value={`${workers.busy} / ${workers.busy + workers.idle + workers.other}`} detail={`${workers.idle} idle`} />
        <Stat label="Machines ready" value={`${ready} / ${machines.length}`} tone={machines.length > 0 && ready < machines.length ? 'warn' : undefined} />
      </div>

      <div className="grid-2">
        <Panel
          title="Throughput"
          actions={<span className="muted">jobs / s, {span}{throughput.coveredSince !== null ? ` · older history not loaded` : ''}</span>}
        >
          <TimeChart
            label="Throughput, jobs per second"
            from={from}
            to={now}
            format={formatRate}
            minMax={0.5}
            series={[
              { name: 'completed', color: COLORS.completed, points: points.completed },
              { name: 'failed', color: COLORS.failed, points: points.failed },
            ]}
          />
        </Panel>
        <Panel title="Failure rate" actions={<span className="muted">failed share of finished jobs per minute, {span}</span>}>
          <TimeChart
            label="Failure rate per minute"
            from={from}
            to={now}
            format={(v) => `${Math.round(v)}%`}
            minMax={10}
            maxGapMs={60_000}
            dots
            series={[{ name: 'failed', color: COLORS.failed, points: failureRatePoints(buckets) }]}
          />
        </Panel>
      </div>

      <QueuesPanel now={now} />

      <Panel title="Workers" actions={<span className="muted">busy and idle over time</span>}>
        <StackedBar
          label="Workers now"
          segments={[
            { label: 'busy', value: workers.busy, color: COLORS.busy },
            { label: 'idle', value: workers.idle, color: COLORS.idle },
            { label: 'starting, draining or offline', value: workers.other, color: COLORS.other },
          ]}
        />
        <TimeChart
          label="Workers busy and idle over time"
          from={workersFrom}
          to={now}
          stacked
          height={140}
          format={(v) => String(Math.round(v))}
          minMax={2}
          maxGapMs={3 * SAMPLE_MS}
          series={[
            { name: 'busy', color: COLORS.busy, points: workerHistory.map((s) => ({ t: s.t, v: s.value.busy })) },
            { name: 'idle', color: COLORS.idle, points: workerHistory.map((s) => ({ t: s.t, v: s.value.idle })) },
            { name: 'other', color: COLORS.other, points: workerHistory.map((s) => ({ t: s.t, v: s.value.other })) },
          ]}
        />
      </Panel>
    </div>
  );
}

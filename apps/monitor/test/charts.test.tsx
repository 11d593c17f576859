import { render } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { linePath, niceCeil } from '../src/charts/scale.ts';
import { isolated, TimeChart } from '../src/charts/TimeChart.tsx';
import { BUCKET_MS, chartStart, MIN_SPAN_MS, Throughput, WINDOW_MS } from '../src/state/metrics.ts';

const T = 1_760_000_000_000 - (1_760_000_000_000 % BUCKET_MS);

describe('chart scales and paths', () => {
  it('rounds an axis maximum up to 1, 2 or 5 × 10^k', () => {
    expect([0, 0.3, 1, 1.2, 3, 7, 19, 480, 5000].map((v) => niceCeil(v, 0.1))).toEqual([0.1, 0.5, 1, 2, 5, 10, 20, 500, 5000]);
    expect(niceCeil(0, 5)).toBe(5);
  });

  it('breaks a line where samples are missing instead of bridging the gap', () => {
    const points = [
      { t: 0, v: 1 },
      { t: 10, v: 2 },
      { t: 100, v: 3 },
    ];
    expect(linePath(points, (t) => t, (v) => v, 20)).toBe('M0.0,1.0L10.0,2.0M100.0,3.0');
    expect(isolated(points, 20)).toEqual([{ t: 100, v: 3 }]);
  });

  it('starts the time axis at the first data, at least three minutes and at most an hour back', () => {
    expect(chartStart(T, undefined)).toBe(T - MIN_SPAN_MS);
    expect(chartStart(T, T - 20 * 60_000)).toBe(T - 20 * 60_000);
    expect(chartStart(T, T - 3 * WINDOW_MS)).toBe(T - WINDOW_MS);
  });

  it('stacks series so each area sits on the one below', () => {
    const points = (v: number) => [0, 1, 2].map((i) => ({ t: T - 60_000 + i * 30_000, v }));
    const { container } = render(
      <TimeChart
        label="stack"
        from={T - 60_000}
        to={T}
        stacked
        format={String}
        series={[
          { name: 'a', color: 'red', points: points(2) },
          { name: 'b', color: 'blue', points: points(3) },
        ]}
      />,
    );
    const areas = [...container.querySelectorAll('path.chart-area')].map((p) => p.getAttribute('d') ?? '');
    expect(areas).toHaveLength(2);
    // The axis tops out at 5 (2 + 3): the upper area's top edge is at the chart's top line.
    expect(container.textContent).toContain('5');
    expect(areas[1]?.startsWith(`M44.0,10.0`)).toBe(true);
  });
});

describe('Throughput', () => {
  it('counts per bucket, reports full-bucket rates and forgets what is older than the window', () => {
    const t = new Throughput();
    for (let i = 0; i < 30; i++) t.add('completed', T - 60_000 + i * 2000);
    t.add('failed', T - 5000);
    t.add('completed', T - 2 * WINDOW_MS);
    expect(t.rate(T, 'completed')).toBe(0.5);
    expect(t.series(T)).toHaveLength(WINDOW_MS / BUCKET_MS);
    expect(t.totals(T)).toEqual({ completed: 30, failed: 1 });
    t.prune(T);
    expect(t.first()).toBe(T - 60_000);
  });
});

import { useState, type MouseEvent } from 'react';
import { formatClock } from '../ui/format.ts';
import { areaPath, linear, linePath, niceCeil, type Point } from './scale.ts';
import { useWidth } from './useWidth.ts';

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: readonly Point[];
}

export interface TimeChartProps {
  /** Accessible name, e.g. "Throughput, last hour". */
  readonly label: string;
  readonly series: readonly Series[];
  readonly from: number;
  readonly to: number;
  readonly height?: number;
  readonly format: (v: number) => string;
  /** Stacked areas (parts of a whole) instead of overlaid lines. */
  readonly stacked?: boolean;
  /** Smallest y maximum, so a flat zero line does not fill the chart. */
  readonly minMax?: number;
  /** Points further apart than this are not joined (missing samples while disconnected). */
  readonly maxGapMs?: number;
  /** Mark every point (sparse series such as per-minute rates); isolated points are always marked. */
  readonly dots?: boolean;
}

const PAD = { left: 44, right: 12, top: 10, bottom: 22 };

/** Points with no neighbour close enough to draw a line to: without a mark they would be invisible. */
export function isolated(points: readonly Point[], maxGapMs = Infinity): Point[] {
  return points.filter((p, i) => {
    const prev = points[i - 1];
    const next = points[i + 1];
    return (!prev || p.t - prev.t > maxGapMs) && (!next || next.t - p.t > maxGapMs);
  });
}

function stack(series: readonly Series[]): Point[][] {
  const sums: Point[][] = [];
  series.forEach((s, i) => sums.push(s.points.map((p, j) => ({ t: p.t, v: p.v + (i > 0 ? (sums[i - 1]?.[j]?.v ?? 0) : 0) }))));
  return sums;
}

/** A time-series chart drawn as plain SVG: lines (or stacked areas), a y grid, clock times on x, a hover readout. */
export function TimeChart({ label, series, from, to, height = 160, format, stacked = false, minMax = 1, maxGapMs, dots = false }: TimeChartProps) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const [hoverT, setHoverT] = useState<number | null>(null);
  const lines = stacked ? stack(series) : series.map((s) => [...s.points]);
  const top = Math.max(0, ...lines.flatMap((l) => l.map((p) => p.v)));
  const yMax = niceCeil(top, minMax);
  const x = linear(from, to, PAD.left, width - PAD.right);
  const y = linear(0, yMax, height - PAD.bottom, PAD.top);
  const ticks = [0, yMax / 2, yMax];
  const xTicks = [from, from + (to - from) / 2, to];

  const onMove = (e: MouseEvent<SVGSVGElement>) => {
    const box = e.currentTarget.getBoundingClientRect();
    const t = linear(PAD.left, width - PAD.right, from, to)(e.clientX - box.left);
    setHoverT(t >= from && t <= to ? t : null);
  };
  const nearest = (points: readonly Point[]) =>
    hoverT === null ? undefined : points.reduce<Point | undefined>((best, p) => (!best || Math.abs(p.t - hoverT) < Math.abs(best.t - hoverT) ? p : best), undefined);
  const hovered = hoverT === null ? [] : series.map((s) => ({ s, p: nearest(s.points) }));
  const hoverAt = hovered.find((h) => h.p)?.p?.t;

  return (
    <div className="chart" ref={ref}>
      <svg width={width} height={height} role="img" aria-label={label} onMouseMove={onMove} onMouseLeave={() => setHoverT(null)}>
        {ticks.map((v) => (
          <g key={v}>
            <line className="chart-grid" x1={PAD.left} x2={width - PAD.right} y1={y(v)} y2={y(v)} />
            <text className="chart-axis" x={PAD.left - 6} y={y(v) + 3} textAnchor="end">
              {format(v)}
            </text>
          </g>
        ))}
        {xTicks.map((t, i) => (
          <text key={t} className="chart-axis" x={x(t)} y={height - 6} textAnchor={i === 0 ? 'start' : i === 2 ? 'end' : 'middle'}>
            {i === 2 ? 'now' : formatClock(t)}
          </text>
        ))}
        {stacked
          ? lines.map((upper, i) => (
              <path key={series[i]?.name} d={areaPath(upper, i > 0 ? (lines[i - 1] ?? []) : upper.map((p) => ({ t: p.t, v: 0 })), x, y)} fill={series[i]?.color} className="chart-area" />
            ))
          : lines.map((points, i) => (
              <g key={series[i]?.name}>
                <path d={areaPath(points, points.map((p) => ({ t: p.t, v: 0 })), x, y)} fill={series[i]?.color} className="chart-area chart-area-light" />
                <path d={linePath(points, x, y, maxGapMs)} stroke={series[i]?.color} className="chart-line" />
                {(dots ? points : isolated(points, maxGapMs)).map((p) => (
                  <circle key={p.t} cx={x(p.t)} cy={y(p.v)} r={2.5} fill={series[i]?.color} />
                ))}
              </g>
            ))}
        {hoverAt !== undefined && <line className="chart-cursor" x1={x(hoverAt)} x2={x(hoverAt)} y1={PAD.top} y2={height - PAD.bottom} />}
      </svg>
      <div className="chart-legend">
        {hoverAt !== undefined && <span className="chart-legend-time">{formatClock(hoverAt)}</span>}
        {series.map((s) => {
          const point = hovered.find((h) => h.s === s)?.p ?? s.points.at(-1);
          return (
            <span key={s.name} className="chart-legend-item">
              <i style={{ background: s.color }} />
              {s.name}
              {point && <b>{format(point.v)}</b>}
            </span>
          );
        })}
      </div>
    </div>
  );
}

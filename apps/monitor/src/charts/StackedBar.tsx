export interface Segment {
  readonly label: string;
  readonly value: number;
  readonly color: string;
}

/** One bar split into parts of a whole (busy / idle / other workers), with a legend of counts. */
export function StackedBar({ segments, label }: { readonly segments: readonly Segment[]; readonly label: string }) {
  const total = segments.reduce((sum, s) => sum + s.value, 0);
  return (
    <div className="stacked" role="img" aria-label={`${label}: ${segments.map((s) => `${s.value} ${s.label}`).join(', ')}`}>
      <div className="stacked-track">
        {total > 0 && segments.map((s) => s.value > 0 && <span key={s.label} style={{ width: `${(s.value / total) * 100}%`, background: s.color }} />)}
      </div>
      <div className="chart-legend">
        {segments.map((s) => (
          <span key={s.label} className="chart-legend-item">
            <i style={{ background: s.color }} />
            {s.label}
            <b>{s.value}</b>
          </span>
        ))}
      </div>
    </div>
  );
}

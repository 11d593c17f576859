export interface ProgressBarProps {
  readonly percent: number;
  readonly label?: string;
  readonly tone?: 'active' | 'done' | 'failed' | 'muted';
  readonly size?: 'sm' | 'md';
}

/** An accessible progress bar: screen readers and tests read `aria-valuenow`. */
export function ProgressBar({ percent, label, tone = 'active', size = 'md' }: ProgressBarProps) {
  const value = Math.max(0, Math.min(100, Math.round(percent)));
  return (
    <div className={`progress progress-${size} progress-${tone}`}>
      <div className="progress-track" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={value} aria-label={label ?? 'progress'}>
        <div className="progress-fill" style={{ width: `${value}%` }} />
      </div>
      <span className="progress-value">{value}%</span>
    </div>
  );
}

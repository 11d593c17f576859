/** "850 ms", "12.3 s", "4 min 05 s", "2 h 10 min". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  const abs = Math.max(0, ms);
  if (abs < 1000) return `${Math.round(abs)} ms`;
  if (abs < 60_000) return `${(abs / 1000).toFixed(abs < 10_000 ? 1 : 0)} s`;
  const minutes = Math.floor(abs / 60_000);
  if (minutes < 60) return `${minutes} min ${String(Math.floor((abs % 60_000) / 1000)).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

export function formatAgo(ts: number | undefined, now: number): string {
  if (ts === undefined) return '—';
  const ms = now - ts;
  return ms < 1000 ? 'just now' : `${formatDuration(ms)} ago`;
}

export function formatTime(ts: number | undefined): string {
  if (ts === undefined) return '—';
  const d = new Date(ts);
  return d.toLocaleTimeString(undefined, { hour12: false }) + `.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

export function formatDateTime(ts: number | undefined): string {
  if (ts === undefined) return '—';
  return `${new Date(ts).toLocaleDateString(undefined, { month: 'short', day: 'numeric' })} ${new Date(ts).toLocaleTimeString(undefined, { hour12: false })}`;
}

export function formatClock(ts: number): string {
  return new Date(ts).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hour12: false });
}

/** "512 MiB", "23.5 GiB". */
export function formatMb(mb: number): string {
  return mb < 1024 ? `${Math.round(mb)} MiB` : `${(mb / 1024).toFixed(mb < 10_240 ? 1 : 0)} GiB`;
}

export function formatRate(perSecond: number): string {
  if (perSecond === 0) return '0';
  if (perSecond < 0.1) return perSecond.toFixed(3);
  return perSecond < 10 ? perSecond.toFixed(2) : perSecond.toFixed(0);
}

export function formatPercent(share: number | null): string {
  if (share === null) return '—';
  const pct = share * 100;
  return `${pct < 10 && pct > 0 ? pct.toFixed(1) : Math.round(pct)}%`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

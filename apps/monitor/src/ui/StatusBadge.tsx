const TONES: Record<string, string> = {
  ready: 'ok',
  idle: 'ok',
  completed: 'ok',
  done: 'ok',
  busy: 'info',
  active: 'info',
  running: 'info',
  installing: 'info',
  starting: 'info',
  pending: 'wait',
  queued: 'wait',
  delayed: 'wait',
  progress: 'info',
  draining: 'warn',
  warming: 'warn',
  retrying: 'warn',
  'cancel-requested': 'warn',
  'lease-expired': 'warn',
  'lease-released': 'warn',
  skipped: 'muted',
  stopped: 'muted',
  cancelled: 'muted',
  offline: 'bad',
  failed: 'bad',
};

export function StatusBadge({ status }: { readonly status: string }) {
  return <span className={`badge badge-${TONES[status] ?? 'muted'}`}>{status}</span>;
}

import { useNow, useSession, useSessionStatus } from '../state/hooks.ts';

/** Says plainly when the dashboard is not live: reconnecting, unreachable, or a protocol problem. */
export function ConnectionBanner() {
  const session = useSession();
  const status = useSessionStatus();
  const now = useNow(500);
  const { socket, problem } = status;
  const url = session.api.baseUrl;
  return (
    <>
      {socket.phase === 'waiting' && (
        <div className={`banner ${socket.everConnected ? 'banner-warn' : 'banner-bad'}`} role="alert" aria-label="Connection">
          <b>{socket.everConnected ? 'Connection to the API lost.' : 'API unreachable.'}</b> {socket.reason} ({url}). Retrying in{' '}
          {Math.max(0, Math.ceil((socket.retryAt - now) / 1000))} s (attempt {socket.attempt + 1}).{' '}
          {socket.everConnected && <span>The figures below are from before the disconnect. </span>}
          <button type="button" className="link" onClick={() => session.retryNow()}>
            Retry now
          </button>
        </div>
      )}
      {socket.phase === 'connecting' && socket.attempt > 1 && (
        <div className="banner banner-warn" role="status">
          Reconnecting to {url} (attempt {socket.attempt})…
        </div>
      )}
      {problem && socket.phase === 'live' && (
        <div className="banner banner-warn" role="status">
          {problem.code}: {problem.message}
          {problem.issues.map((i) => (
            <span key={`${i.path}:${i.message}`} className="mono small">
              {' '}
              {i.path}: {i.message}
            </span>
          ))}
        </div>
      )}
    </>
  );
}

export function LiveIndicator() {
  const { socket, hello } = useSessionStatus();
  const label = socket.phase === 'live' ? 'live' : socket.phase === 'waiting' ? 'offline' : socket.phase === 'connecting' ? 'connecting' : 'stopped';
  return (
    <span className={`live live-${label}`} role="status" aria-label={`connection ${label}`}>
      <i />
      {label}
      {hello && <span className="muted"> · {hello.mode} mode</span>}
    </span>
  );
}

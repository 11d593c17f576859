import { useState } from 'react';
import { useNow } from '../state/hooks.ts';

export function Centered({ title, children }: { readonly title: string; readonly children: React.ReactNode }) {
  return (
    <div className="centered">
      <div className="centered-card">
        <div className="brand brand-dark">
          <span className="brand-mark">▤</span> Conveyor monitor
        </div>
        <h1>{title}</h1>
        {children}
      </div>
    </div>
  );
}

/** Server mode: the API wants an admin key before it shows the fleet. */
export function KeyPrompt({ apiUrl, problem, onSubmit }: { readonly apiUrl: string; readonly problem?: string; readonly onSubmit: (key: string) => void }) {
  const [key, setKey] = useState('');
  return (
    <Centered title="Admin API key">
      <p className="muted">
        The API at <span className="mono">{apiUrl}</span> runs in server mode. Enter an admin key (create one with{' '}
        <code>pnpm conveyor keys create --tenant &lt;tenant&gt; --admin</code>). It is kept for this browser tab only.
      </p>
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          if (key.trim()) onSubmit(key);
        }}
      >
        <div className={`field ${problem ? 'field-invalid' : ''}`}>
          <label htmlFor="api-key">API key</label>
          <input id="api-key" type="password" autoComplete="off" autoFocus value={key} onChange={(e) => setKey(e.target.value)} aria-describedby="api-key-help" />
          <div id="api-key-help">
            {problem && (
              <div className="field-error" role="alert">
                {problem}
              </div>
            )}
          </div>
        </div>
        <div className="actions">
          <button type="submit" className="button primary" disabled={!key.trim()}>
            Open the monitor
          </button>
        </div>
      </form>
    </Centered>
  );
}

export function Unreachable({ apiUrl, message, retryAt, onRetry }: { readonly apiUrl: string; readonly message: string; readonly retryAt: number; readonly onRetry: () => void }) {
  const now = useNow(500);
  return (
    <Centered title="API unreachable">
      <div className="banner banner-bad" role="alert" aria-label="Connection">
        {message}
      </div>
      <p className="muted">
        The monitor retries by itself in {Math.max(0, Math.ceil((retryAt - now) / 1000))} s. Check that the API runs at <span className="mono">{apiUrl}</span>, or point the
        monitor elsewhere with <code>?api=https://your-api</code> or a <code>config.json</code> next to this page.
      </p>
      <button type="button" className="button" onClick={onRetry}>
        Retry now
      </button>
    </Centered>
  );
}

import { SessionContext } from '../state/hooks.ts';
import { useGate } from './gate.ts';
import { Centered, KeyPrompt, Unreachable } from './Screens.tsx';
import { Shell } from './Shell.tsx';

export function App() {
  const { gate, signIn, signOut, retry } = useGate();
  switch (gate.step) {
    case 'loading':
      return <Centered title="Connecting…">{null}</Centered>;
    case 'config-error':
      return (
        <Centered title="Configuration error">
          <div className="banner banner-bad" role="alert">
            {gate.message}
          </div>
        </Centered>
      );
    case 'unreachable':
      return <Unreachable apiUrl={gate.config.apiUrl} message={gate.message} retryAt={gate.retryAt} onRetry={retry} />;
    case 'key':
      return <KeyPrompt apiUrl={gate.config.apiUrl} problem={gate.problem} onSubmit={signIn} />;
    case 'ready':
      return (
        <SessionContext.Provider value={gate.session}>
          <Shell apiUrl={gate.config.apiUrl} onSignOut={gate.keyed ? signOut : undefined} />
        </SessionContext.Provider>
      );
  }
}

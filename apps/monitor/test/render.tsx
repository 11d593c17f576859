import { render } from '@testing-library/react';
import type { ReactNode } from 'react';
import { ApiClient } from '../src/api/http.ts';
import { SessionContext } from '../src/state/hooks.ts';
import { MonitorSession } from '../src/state/session.ts';

/** Renders inside a monitor session whose HTTP calls go to `fetcher` (its socket is not started). */
export function renderWithSession(ui: ReactNode, fetcher: typeof fetch, apiKey: string | null = null) {
  const session = new MonitorSession(new ApiClient('http://api.test', apiKey, fetcher), apiKey);
  const result = render(<SessionContext.Provider value={session}>{ui}</SessionContext.Provider>);
  return { session, ...result };
}

import { createContext, useContext, useEffect, useState, useSyncExternalStore } from 'react';
import type { FleetView } from './fleet-store.ts';
import type { MonitorSession, SessionStatus } from './session.ts';

export const SessionContext = createContext<MonitorSession | null>(null);

export function useSession(): MonitorSession {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside <SessionContext.Provider>');
  return session;
}

export function useFleet(): FleetView {
  const { store } = useSession();
  return useSyncExternalStore(store.subscribe, store.view);
}

export function useSessionStatus(): SessionStatus {
  const session = useSession();
  return useSyncExternalStore(session.subscribe, session.getStatus);
}

/** The current time, refreshed every `everyMs`, for "5 s ago" labels and countdowns. */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/** The server's current time (the API's clock, which heartbeats and job times use). */
export function useServerNow(everyMs = 1000): number {
  const fleet = useFleet();
  return useNow(everyMs) + fleet.clockOffsetMs;
}

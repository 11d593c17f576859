import { useCallback, useEffect, useState } from 'react';
import { ApiClient, ApiRequestError } from '../api/http.ts';
import { ConfigError, loadConfig, type MonitorConfig } from '../config.ts';
import { MonitorSession } from '../state/session.ts';
import { storedKey, storeKey } from './key-storage.ts';

export type Gate =
  | { readonly step: 'loading' }
  | { readonly step: 'config-error'; readonly message: string }
  | { readonly step: 'unreachable'; readonly config: MonitorConfig; readonly message: string; readonly retryAt: number }
  | { readonly step: 'key'; readonly config: MonitorConfig; readonly problem?: string }
  | { readonly step: 'ready'; readonly config: MonitorConfig; readonly session: MonitorSession; readonly keyed: boolean };

/** Probe retry interval while the API cannot be reached at all. */
const UNREACHABLE_RETRY_MS = 3000;

export interface GateControls {
  readonly gate: Gate;
  /** Tries a key typed by the operator. */
  readonly signIn: (key: string) => void;
  readonly signOut: () => void;
  readonly retry: () => void;
}

/**
 * Decides what the page shows before the dashboard: the API URL from the run-time config, then
 * one admin-only request (with the stored key, if any) that tells local mode (open), server mode
 * (asks for a key), a rejected key and an unreachable API apart.
 */
export function useGate(location: Location = window.location): GateControls {
  const [gate, setGate] = useState<Gate>({ step: 'loading' });
  const [config, setConfig] = useState<MonitorConfig | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    loadConfig(location).then(setConfig, (err: unknown) =>
      setGate({ step: 'config-error', message: err instanceof ConfigError ? err.message : `cannot load the configuration: ${String(err)}` }),
    );
  }, [location]);

  const open = useCallback(async (cfg: MonitorConfig, key: string | null, typed: boolean) => {
    const api = new ApiClient(cfg.apiUrl, key);
    try {
      await api.probe();
    } catch (err) {
      const e = err instanceof ApiRequestError ? err : new ApiRequestError(0, 'UNKNOWN', String(err));
      if (e.unreachable || e.status >= 500) {
        setGate({ step: 'unreachable', config: cfg, message: e.message, retryAt: Date.now() + UNREACHABLE_RETRY_MS });
        return;
      }
      if (key) storeKey(cfg.apiUrl, null);
      const problem =
        e.status === 403
          ? 'This key is valid but not an admin key; the monitor needs an admin key.'
          : e.status === 401 && key
            ? `The API rejected ${typed ? 'this' : 'the saved'} key: ${e.message}`
            : e.status === 401
              ? undefined
              : `${e.code}: ${e.message}`;
      setGate({ step: 'key', config: cfg, problem });
      return;
    }
    if (key) storeKey(cfg.apiUrl, key);
    const session = new MonitorSession(api, key);
    setGate({ step: 'ready', config: cfg, session, keyed: key !== null });
  }, []);

  useEffect(() => {
    if (config) void open(config, storedKey(config.apiUrl), false);
  }, [config, open, attempt]);

  useEffect(() => {
    if (gate.step !== 'unreachable') return;
    const timer = setTimeout(() => setAttempt((a) => a + 1), Math.max(0, gate.retryAt - Date.now()));
    return () => clearTimeout(timer);
  }, [gate]);

  useEffect(() => {
    if (gate.step !== 'ready') return;
    const { session } = gate;
    session.start();
    const off = session.subscribe(() => {
      const problem = session.getStatus().authProblem;
      if (!problem) return;
      storeKey(gate.config.apiUrl, null);
      setGate({ step: 'key', config: gate.config, problem: problem === 'forbidden' ? 'This key is not an admin key.' : 'The API no longer accepts the key; enter it again.' });
    });
    return () => {
      off();
      session.stop();
    };
  }, [gate]);

  return {
    gate,
    signIn: (key) => config && void open(config, key.trim(), true),
    signOut: () => {
      if (!config) return;
      storeKey(config.apiUrl, null);
      setGate({ step: 'key', config });
    },
    retry: () => setAttempt((a) => a + 1),
  };
}

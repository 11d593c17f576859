import { useState } from 'react';
import { ApiRequestError } from '../api/http.ts';
import type { MachineState, ServiceOperation } from '../protocol.ts';
import { useSession } from '../state/hooks.ts';
import { ProgressBar } from '../ui/ProgressBar.tsx';
import { StatusBadge } from '../ui/StatusBadge.tsx';

const FINISHED = new Set(['done', 'failed']);

function Operation({ op }: { readonly op: ServiceOperation }) {
  const finished = FINISHED.has(op.status);
  return (
    <li className="installer">
      <div className="installer-head">
        <span>
          <span className="mono">
            {op.action} {op.service}
          </span>
          {op.origin === 'elastic' && <span className="chip">elastic</span>}
        </span>
        <StatusBadge status={op.status} />
      </div>
      {!finished && <ProgressBar percent={op.progress?.percent ?? 0} tone="active" size="sm" label={`${op.action} ${op.service}`} />}
      {(op.error ?? op.progress?.message) && <div className={op.error ? 'text-bad small' : 'muted small'}>{op.error ?? op.progress?.message}</div>}
    </li>
  );
}

/**
 * The machine's connectors with an action to add one it can run and to remove one (its workers
 * drain: their jobs finish or go back to the queue), and the latest changes with their progress,
 * which arrive with the machine's state.
 */
export function MachineServices({ machine }: { readonly machine: MachineState }) {
  const { api } = useSession();
  const addable = (machine.addable ?? []).filter((s) => !machine.connectors.includes(s));
  const [choice, setChoice] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const changing = new Set((machine.operations ?? []).filter((o) => !FINISHED.has(o.status)).map((o) => o.service));
  const open = machine.addable !== undefined && ['starting', 'installing', 'ready'].includes(machine.status);
  const selected = addable.includes(choice) ? choice : (addable[0] ?? '');

  const run = async (change: () => Promise<unknown>) => {
    setBusy(true);
    setMessage(null);
    try {
      await change();
    } catch (err) {
      setMessage(err instanceof ApiRequestError ? `${err.code}: ${err.message}` : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-label={`services of ${machine.machineId}`}>
      <h4>Services</h4>
      <ul className="chips">
        {machine.connectors.length === 0 && <li className="muted">none</li>}
        {machine.connectors.map((c) => (
          <li key={c} className="chip">
            {c}
            {open && (
              <button
                type="button"
                className="link small"
                aria-label={`remove ${c}`}
                title={`remove ${c}: its workers drain, their jobs finish or go back to the queue`}
                disabled={busy || changing.has(c)}
                onClick={() => void run(() => api.removeService(machine.machineId, c))}
              >
                ×
              </button>
            )}
          </li>
        ))}
      </ul>
      {open && addable.length > 0 && (
        <div className="actions service-add">
          <select aria-label="service to add" value={selected} onChange={(e) => setChoice(e.target.value)} disabled={busy}>
            {addable.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
          <button type="button" className="button" disabled={busy || selected === '' || changing.has(selected)} onClick={() => void run(() => api.addService(machine.machineId, selected))}>
            Add service
          </button>
        </div>
      )}
      {machine.elastic && machine.elastic.length > 0 && <div className="muted small">elastic: {machine.elastic.join(', ')}</div>}
      {message && (
        <div role="alert" className="text-bad small">
          {message}
        </div>
      )}
      {(machine.operations ?? []).length > 0 && (
        <ul className="installers">
          {[...(machine.operations ?? [])].reverse().slice(0, 4).map((op) => (
            <Operation key={op.id} op={op} />
          ))}
        </ul>
      )}
    </section>
  );
}

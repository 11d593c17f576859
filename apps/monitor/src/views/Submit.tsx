import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { ApiRequestError } from '../api/http.ts';
import type { Issue, ServiceInfo, SubmitWarning } from '../protocol.ts';
import { useFleet, useSession } from '../state/hooks.ts';
import { Panel } from '../ui/Panel.tsx';
import { navigate } from '../ui/router.ts';
import { buildSubmission, EMPTY_DRAFT, issuesByField, payloadProblem, templateFor, type FieldName, type SubmitDraft } from './submit-form.ts';

const OTHER = '__other__';

interface FieldProps {
  readonly name: FieldName;
  readonly label: string;
  readonly hint?: string;
  readonly local?: string;
  readonly server?: readonly Issue[];
  readonly children: (props: { id: string; 'aria-invalid': boolean; 'aria-describedby': string }) => ReactNode;
}

/** A labelled control with its problems right under it: the browser's own check, then the API's issues with their paths. */
function Field({ name, label, hint, local, server = [], children }: FieldProps) {
  const id = `field-${name}`;
  const invalid = local !== undefined || server.length > 0;
  return (
    <div className={`field ${invalid ? 'field-invalid' : ''}`} data-field={name}>
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-invalid': invalid, 'aria-describedby': `${id}-help` })}
      <div id={`${id}-help`}>
        {hint && !invalid && <div className="field-hint">{hint}</div>}
        {local && (
          <div className="field-error" role="alert">
            {local}
          </div>
        )}
        {server.map((issue) => (
          <div key={`${issue.path}:${issue.message}`} className="field-error" role="alert">
            <code>{issue.path || name}</code> {issue.message}
          </div>
        ))}
      </div>
    </div>
  );
}

/** How often the open form re-reads the services' live worker counts (one O(classes) read each). */
const CATALOG_REFRESH_MS = 5000;

/** The services with a connector contract (`GET /api/services`); none while loading or when the API cannot say. */
function useCatalog(): ServiceInfo[] {
  const { api } = useSession();
  const [catalog, setCatalog] = useState<ServiceInfo[]>([]);
  useEffect(() => {
    let live = true;
    const load = () =>
      api.services().then(
        ({ services }) => live && setCatalog(services),
        () => undefined,
      );
    void load();
    const timer = setInterval(() => void load(), CATALOG_REFRESH_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [api]);
  return catalog;
}

/** Known services: those with a contract, what machines offer, what workers run, what is queued or was run. */
function useServices(catalog: readonly ServiceInfo[]): string[] {
  const fleet = useFleet();
  return useMemo(() => {
    const set = new Set<string>(catalog.map((s) => s.name));
    for (const m of fleet.machines.values()) for (const c of m.connectors) set.add(c);
    for (const w of fleet.workers.values()) for (const s of w.services) set.add(s);
    for (const q of fleet.queues?.queues ?? []) set.add(q.spec.service);
    return [...set].sort();
  }, [catalog, fleet.machines, fleet.workers, fleet.queues]);
}

/** "cpu · 2 live workers", or that nothing live can run it yet. */
function describeService(info: ServiceInfo): string {
  const workers = info.liveWorkers === 0 ? 'no live worker yet: jobs wait until one starts' : `${info.liveWorkers} live worker${info.liveWorkers === 1 ? '' : 's'}`;
  return `${info.summary} (${info.kind} · ${workers})`;
}

export function Submit() {
  const { api } = useSession();
  const catalog = useCatalog();
  const services = useServices(catalog);
  const examples = useMemo(() => new Map(catalog.map((s) => [s.name, s.example])), [catalog]);
  const [submitted, setSubmitted] = useState<{ id: string; warnings: SubmitWarning[] } | null>(null);
  const [draft, setDraft] = useState<SubmitDraft>(EMPTY_DRAFT);
  const [other, setOther] = useState(false);
  const [local, setLocal] = useState<Partial<Record<FieldName, string>>>({});
  const [server, setServer] = useState<{ fields: Partial<Record<FieldName, Issue[]>>; other: Issue[]; message?: string }>({ fields: {}, other: [] });
  const [sending, setSending] = useState(false);
  const info = catalog.find((s) => s.name === draft.service);

  const set = (field: FieldName, value: string) => setDraft((d) => ({ ...d, [field]: value }));
  const pickService = (value: string) => {
    const custom = value === OTHER;
    setOther(custom);
    const service = custom ? '' : value;
    // A payload still equal to the previous service's template follows the new service.
    setDraft((d) => ({
      ...d,
      service,
      payload: d.payload.trim() === templateFor(examples, d.service) || d.payload.trim() === '{}' ? templateFor(examples, service) : d.payload,
    }));
  };

  const submit = async () => {
    const { body, errors } = buildSubmission(draft);
    setLocal(errors);
    setServer({ fields: {}, other: [] });
    setSubmitted(null);
    if (!body) return;
    setSending(true);
    try {
      const { id, warnings } = await api.submit(body);
      // A job that nothing can run yet is said here, where its sender looks, before its page.
      if (warnings.length > 0) setSubmitted({ id, warnings });
      else navigate(`/jobs/${id}`);
    } catch (err) {
      if (err instanceof ApiRequestError) {
        const grouped = issuesByField(err.issues);
        // Issues shown next to their fields need not be repeated; the summary keeps the rest.
        const summary = err.issues.length > 0 && grouped.other.length === 0 ? 'the API rejected the job; see the fields marked above' : err.message;
        setServer({ ...grouped, message: `${err.code}: ${summary}` });
      }
      else setServer({ fields: {}, other: [], message: String(err) });
    } finally {
      setSending(false);
    }
  };

  // The payload is checked against its connector's contract as it is typed, not only on submit.
  const typing = useMemo(() => payloadProblem(draft.service, draft.payload), [draft.service, draft.payload]);
  const field = (name: FieldName) => ({ name, local: local[name] ?? (name === 'payload' ? typing : undefined), server: server.fields[name] });
  const selected = other ? OTHER : draft.service;

  return (
    <div className="view">
      <Panel title="New job">
        <form
          className="form"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          <Field
            {...field('service')}
            label="Service"
            hint={info ? describeService(info) : services.length === 0 ? 'No machine offers a service yet; type one under "other".' : undefined}
          >
            {(p) => (
              <div className="service-pick">
                <select {...p} value={selected} onChange={(e) => pickService(e.target.value)}>
                  <option value="" disabled>
                    choose…
                  </option>
                  {services.map((s) => (
                    <option key={s} value={s}>
                      {s}
                    </option>
                  ))}
                  <option value={OTHER}>other…</option>
                </select>
                {other && <input aria-label="Service name" placeholder="service name" value={draft.service} onChange={(e) => set('service', e.target.value)} />}
              </div>
            )}
          </Field>
          <div className="form-row">
            <Field {...field('priority')} label="Priority" hint="-1000 … 1000, higher runs sooner">
              {(p) => <input {...p} inputMode="numeric" value={draft.priority} onChange={(e) => set('priority', e.target.value)} />}
            </Field>
            <Field {...field('maxAttempts')} label="Max attempts">
              {(p) => <input {...p} inputMode="numeric" value={draft.maxAttempts} onChange={(e) => set('maxAttempts', e.target.value)} />}
            </Field>
            <Field {...field('timeoutMs')} label="Timeout (ms)" hint="optional">
              {(p) => <input {...p} inputMode="numeric" value={draft.timeoutMs} onChange={(e) => set('timeoutMs', e.target.value)} />}
            </Field>
            <Field {...field('delayMs')} label="Delay (ms)" hint="optional">
              {(p) => <input {...p} inputMode="numeric" value={draft.delayMs} onChange={(e) => set('delayMs', e.target.value)} />}
            </Field>
            <Field {...field('tenant')} label="Tenant" hint="optional; your key's tenant by default">
              {(p) => <input {...p} value={draft.tenant} onChange={(e) => set('tenant', e.target.value)} />}
            </Field>
          </div>
          <Field {...field('payload')} label="Payload (JSON)">
            {(p) => <textarea {...p} className="code" rows={12} spellCheck={false} value={draft.payload} onChange={(e) => set('payload', e.target.value)} />}
          </Field>
          <Field {...field('requirements')} label="Requirements (JSON)" hint='e.g. {"gpuMemoryMb": 16000, "pool": "a100"}'>
            {(p) => <textarea {...p} className="code" rows={3} spellCheck={false} value={draft.requirements} onChange={(e) => set('requirements', e.target.value)} />}
          </Field>
          {submitted && (
            <div className="warning-box" role="status" aria-label="Submit warning">
              Job <a href={`#/jobs/${submitted.id}`}>{submitted.id}</a> was queued, but:
              {submitted.warnings.map((w) => (
                <div key={w.code}>
                  <code>{w.code}</code> {w.message}
                </div>
              ))}
            </div>
          )}
          {server.message && (
            <div className="error-box" role="alert" aria-label="Submit error">
              {server.message}
              {server.other.map((i) => (
                <div key={`${i.path}:${i.message}`}>
                  <code>{i.path || '(job)'}</code> {i.message}
                </div>
              ))}
            </div>
          )}
          <div className="actions">
            <button type="submit" className="button primary" disabled={sending}>
              {sending ? 'Submitting…' : 'Submit job'}
            </button>
          </div>
        </form>
      </Panel>
    </div>
  );
}

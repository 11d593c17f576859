import type { Issue } from '../protocol.ts';

export interface SubmitDraft {
  readonly service: string;
  readonly tenant: string;
  readonly priority: string;
  readonly maxAttempts: string;
  readonly timeoutMs: string;
  readonly delayMs: string;
  readonly requirements: string;
  readonly payload: string;
}
export type FieldName = keyof SubmitDraft;
export const FIELDS: readonly FieldName[] = ['service', 'tenant', 'priority', 'maxAttempts', 'timeoutMs', 'delayMs', 'requirements', 'payload'];

/** Starting payloads for the services this repo ships; any other service starts from `{}`. */
export const TEMPLATES: Readonly<Record<string, unknown>> = {
  simulation: { durationMs: 5000, steps: 10, failureRate: 0 },
  playwright: { url: 'https://example.com', action: 'screenshot', viewport: { width: 1280, height: 720 } },
};

export function templateFor(service: string): string {
  return JSON.stringify(TEMPLATES[service] ?? {}, null, 2);
}

export const EMPTY_DRAFT: SubmitDraft = { service: '', tenant: '', priority: '0', maxAttempts: '3', timeoutMs: '', delayMs: '', requirements: '{}', payload: '{}' };

/** "line 3, column 5: …" for a JSON syntax error, from the engine's "at position N" when it gives one. */
export function jsonError(text: string, err: unknown): string {
  const message = (err as Error).message;
  const at = /position (\d+)/.exec(message);
  if (!at || /line \d+ column \d+/.test(message)) return message;
  const before = text.slice(0, Number(at[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `line ${line}, column ${column}: ${message}`;
}

/**
 * The request body from the form. Only what the browser can know is checked here (JSON syntax,
 * whole numbers); everything else is the API's to judge, and its 400 issues land next to the fields.
 */
export function buildSubmission(draft: SubmitDraft): { body?: Record<string, unknown>; errors: Partial<Record<FieldName, string>> } {
  const errors: Partial<Record<FieldName, string>> = {};
  const body: Record<string, unknown> = { service: draft.service.trim() };
  if (!draft.service.trim()) errors.service = 'pick a service';
  if (draft.tenant.trim()) body.tenant = draft.tenant.trim();
  for (const field of ['priority', 'maxAttempts', 'timeoutMs', 'delayMs'] as const) {
    const text = draft[field].trim();
    if (text === '') continue;
    if (!/^-?\d+$/.test(text)) errors[field] = 'must be a whole number';
    else body[field] = Number(text);
  }
  for (const field of ['payload', 'requirements'] as const) {
    const text = draft[field].trim();
    if (text === '' && field === 'requirements') continue;
    try {
      body[field] = JSON.parse(text) as unknown;
    } catch (err) {
      errors[field] = `not valid JSON: ${jsonError(text, err)}`;
    }
  }
  return Object.keys(errors).length > 0 ? { errors } : { body, errors };
}

/** The API's issues grouped by the form field their path starts with (`payload.steps` → payload). */
export function issuesByField(issues: readonly Issue[]): { fields: Partial<Record<FieldName, Issue[]>>; other: Issue[] } {
  const fields: Partial<Record<FieldName, Issue[]>> = {};
  const other: Issue[] = [];
  for (const issue of issues) {
    const head = issue.path.split(/[.[]/)[0] as FieldName;
    if (FIELDS.includes(head)) (fields[head] ??= []).push(issue);
    else other.push(issue);
  }
  return { fields, other };
}

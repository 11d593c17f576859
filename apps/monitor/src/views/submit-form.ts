import { payloadIssues } from '@conveyor/connectors';
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

/** A service's starting payload: the example `GET /api/services` gives for it, else `{}`. */
export function templateFor(examples: ReadonlyMap<string, unknown>, service: string): string {
  return JSON.stringify(examples.get(service) ?? {}, null, 2);
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
 * The request body from the form. What the browser can know is checked here (JSON syntax, whole
 * numbers, the payload against its connector's contract from @conveyor/connectors, the same the
 * API applies); everything else is the API's to judge, and its 400 issues land next to the fields.
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
  // The connector's own contract, as the API will apply it: its problems show before sending.
  const problem = errors.payload === undefined ? payloadProblem(draft.service, draft.payload) : undefined;
  if (problem) errors.payload = problem;
  return Object.keys(errors).length > 0 ? { errors } : { body, errors };
}

/** What the service's contract finds wrong with the payload being typed; nothing while it is not JSON yet. */
export function payloadProblem(service: string, payload: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return undefined;
  }
  const problems = payloadIssues(service.trim(), parsed);
  return problems.length > 0 ? problems.map((i) => `${i.path}: ${i.message}`).join('; ') : undefined;
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

import { CONTRACTS } from '@conveyor/connectors';
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { buildSubmission, EMPTY_DRAFT, issuesByField, jsonError } from '../src/views/submit-form.ts';
import { Submit } from '../src/views/Submit.tsx';
import { fakeFetch, on, type Route } from './fake-api.ts';
import { renderWithSession } from './render.tsx';
import { jobId, snapshot } from './samples.ts';

afterEach(() => {
  window.location.hash = '';
});

const field = (name: string) => document.querySelector(`[data-field="${name}"]`) as HTMLElement;

/** `GET /api/services` as the API answers it, from the same contracts. */
const services: Route = on('GET', '/api/services', () => ({
  status: 200,
  body: {
    services: Object.values(CONTRACTS).map((c) => ({ name: c.name, kind: c.kind, summary: c.summary, example: c.example, liveWorkers: c.name === 'simulation' ? 2 : 0, payloadSchema: {} })),
  },
}));

function renderForm(fetcher: typeof fetch) {
  const rendered = renderWithSession(<Submit />, fetcher);
  act(() => {
    rendered.session.store.applySnapshot(snapshot());
  });
  return rendered;
}

describe('submit form', () => {
  it('offers the services the fleet runs without the catalog, with an empty payload', () => {
    renderForm(fakeFetch());
    const select = within(field('service')).getByRole('combobox');
    expect([...select.querySelectorAll('option')].map((o) => o.textContent)).toEqual(['choose…', 'comfyui', 'simulation', 'other…']);
    fireEvent.change(select, { target: { value: 'simulation' } });
    expect((screen.getByLabelText('Payload (JSON)') as HTMLTextAreaElement).value).toBe('{}');
  });

  it("offers every service of GET /api/services, fills in its example and says who can run it", async () => {
    renderForm(fakeFetch(services));
    const select = within(field('service')).getByRole('combobox');
    await waitFor(() => expect(select.querySelectorAll('option').length).toBe(Object.keys(CONTRACTS).length + 2));
    fireEvent.change(select, { target: { value: 'simulation' } });
    expect(JSON.parse((screen.getByLabelText('Payload (JSON)') as HTMLTextAreaElement).value)).toEqual(CONTRACTS.simulation.example);
    expect(field('service').textContent).toContain('cpu · 2 live workers');
    fireEvent.change(select, { target: { value: 'comfyui' } });
    expect(JSON.parse((screen.getByLabelText('Payload (JSON)') as HTMLTextAreaElement).value)).toEqual(CONTRACTS.comfyui.example);
    expect(field('service').textContent).toContain('no live worker yet');
  });

  it("shows the payload's problems as it is typed, by its connector's contract, and sends nothing", async () => {
    const fetcher = fakeFetch(services);
    renderForm(fetcher);
    fireEvent.change(within(field('service')).getByRole('combobox'), { target: { value: 'simulation' } });
    fireEvent.change(screen.getByLabelText('Payload (JSON)'), { target: { value: '{"durationMs": -5, "bogus": 1}' } });
    const alert = within(field('payload')).getByRole('alert').textContent ?? '';
    expect(alert).toContain('payload.durationMs');
    expect(alert).toContain('payload.bogus: is not a known field');
    fireEvent.click(screen.getByRole('button', { name: 'Submit job' }));
    expect(fetcher.calls.filter((c) => c.method === 'POST')).toHaveLength(0);
  });

  it('says so, with a link, when no live worker can run the job it queued', async () => {
    const id = jobId();
    const message = 'no worker serves nobody: the job waits until a worker for nobody starts';
    const fetcher = fakeFetch(on('POST', '/api/jobs', () => ({ status: 201, body: { id, duplicate: false, warnings: [{ code: 'NO_LIVE_WORKER', message, excluded: [] }] } })));
    renderForm(fetcher);
    fireEvent.change(within(field('service')).getByRole('combobox'), { target: { value: '__other__' } });
    fireEvent.change(screen.getByLabelText('Service name'), { target: { value: 'nobody' } });
    fireEvent.click(screen.getByRole('button', { name: 'Submit job' }));
    const notice = await screen.findByRole('status', { name: 'Submit warning' });
    expect(notice.textContent).toContain(message);
    expect(within(notice).getByRole('link').getAttribute('href')).toBe(`#/jobs/${id}`);
    expect(window.location.hash).toBe('');
  });

  it('submits the job and opens its page', async () => {
    const id = jobId();
    const fetcher = fakeFetch(services, on('POST', '/api/jobs', () => ({ status: 201, body: { id, duplicate: false } })));
    renderForm(fetcher);
    const select = within(field('service')).getByRole('combobox');
    await waitFor(() => expect(select.querySelectorAll('option').length).toBe(Object.keys(CONTRACTS).length + 2));
    fireEvent.change(select, { target: { value: 'simulation' } });
    fireEvent.change(screen.getByLabelText('Priority'), { target: { value: '5' } });
    fireEvent.click(screen.getByRole('button', { name: 'Submit job' }));
    await waitFor(() => expect(window.location.hash).toBe(`#/jobs/${id}`));
    expect(fetcher.calls.find((c) => c.method === 'POST')?.body).toEqual({ service: 'simulation', priority: 5, maxAttempts: 3, requirements: {}, payload: CONTRACTS.simulation.example });
  });

  it("shows the API's 400 issues next to the fields their paths name", async () => {
    const issues = [
      { path: 'priority', message: 'Number must be less than or equal to 1000' },
      { path: 'payload.steps', message: 'must be at most 1000' },
      { path: 'requirements.gpuMemoryMb', message: 'Expected number, received string' },
      { path: 'idempotencyKey', message: 'differs from the Idempotency-Key header' },
    ];
    const fetcher = fakeFetch(on('POST', '/api/jobs', () => ({ status: 400, body: { error: { code: 'INVALID_INPUT', message: 'invalid job', issues } } })));
    renderForm(fetcher);
    fireEvent.change(within(field('service')).getByRole('combobox'), { target: { value: 'simulation' } });
    fireEvent.change(screen.getByLabelText('Priority'), { target: { value: '5000' } });
    fireEvent.click(screen.getByRole('button', { name: 'Submit job' }));
    await screen.findByText('Number must be less than or equal to 1000');
    expect(within(field('priority')).getByRole('alert').textContent).toBe('priority Number must be less than or equal to 1000');
    expect(within(field('payload')).getByRole('alert').textContent).toBe('payload.steps must be at most 1000');
    expect(within(field('requirements')).getByRole('alert').textContent).toContain('requirements.gpuMemoryMb');
    expect(screen.getByLabelText('Priority').getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByRole('alert', { name: 'Submit error' }).textContent).toContain('idempotencyKey differs from the Idempotency-Key header');
  });

  it('catches broken JSON before sending anything, naming the line', () => {
    const fetcher = fakeFetch();
    renderForm(fetcher);
    fireEvent.change(within(field('service')).getByRole('combobox'), { target: { value: 'simulation' } });
    fireEvent.change(screen.getByLabelText('Payload (JSON)'), { target: { value: '{\n  "steps": 4,\n}' } });
    fireEvent.click(screen.getByRole('button', { name: 'Submit job' }));
    expect(within(field('payload')).getByRole('alert').textContent).toMatch(/not valid JSON: .*line 3/);
    expect(fetcher.calls.filter((c) => c.method === 'POST')).toHaveLength(0);
  });
});

describe('submit form helpers', () => {
  it('builds a body with only the fields given', () => {
    expect(buildSubmission({ ...EMPTY_DRAFT, service: 'x', requirements: '', priority: '' }).body).toEqual({ service: 'x', maxAttempts: 3, payload: {} });
    expect(buildSubmission({ ...EMPTY_DRAFT, service: 'x', timeoutMs: '1.5' }).errors).toEqual({ timeoutMs: 'must be a whole number' });
  });

  it('groups issues by the first segment of their path', () => {
    const { fields, other } = issuesByField([
      { path: 'payload[0].x', message: 'a' },
      { path: 'payload', message: 'b' },
      { path: '', message: 'c' },
      { path: 'headers.idempotency-key', message: 'd' },
    ]);
    expect(fields.payload?.map((i) => i.message)).toEqual(['a', 'b']);
    expect(other.map((i) => i.message)).toEqual(['c', 'd']);
  });

  it('turns a JSON position into a line and column', () => {
    const text = '{\n  "a": 1,\n}';
    let err: unknown;
    try {
      JSON.parse(text);
    } catch (e) {
      err = e;
    }
    expect(jsonError(text, err)).toMatch(/line 3/);
  });
});

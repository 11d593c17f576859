import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { buildSubmission, EMPTY_DRAFT, issuesByField, jsonError } from '../src/views/submit-form.ts';
import { Submit } from '../src/views/Submit.tsx';
import { fakeFetch, on } from './fake-api.ts';
import { renderWithSession } from './render.tsx';
import { jobId, snapshot } from './samples.ts';

afterEach(() => {
  window.location.hash = '';
});

const field = (name: string) => document.querySelector(`[data-field="${name}"]`) as HTMLElement;

function renderForm(fetcher: typeof fetch) {
  const rendered = renderWithSession(<Submit />, fetcher);
  act(() => {
    rendered.session.store.applySnapshot(snapshot());
  });
  return rendered;
}

describe('submit form', () => {
  it('offers the services the fleet runs and fills in a payload template', () => {
    renderForm(fakeFetch());
    const select = within(field('service')).getByRole('combobox');
    expect([...select.querySelectorAll('option')].map((o) => o.textContent)).toEqual(['choose…', 'comfyui', 'simulation', 'other…']);
    fireEvent.change(select, { target: { value: 'simulation' } });
    expect(JSON.parse((screen.getByLabelText('Payload (JSON)') as HTMLTextAreaElement).value)).toMatchObject({ durationMs: 5000, steps: 10 });
  });

  it('submits the job and opens its page', async () => {
    const id = jobId();
    const fetcher = fakeFetch(on('POST', '/api/jobs', () => ({ status: 201, body: { id, duplicate: false } })));
    renderForm(fetcher);
    fireEvent.change(within(field('service')).getByRole('combobox'), { target: { value: 'simulation' } });
    fireEvent.change(screen.getByLabelText('Priority'), { target: { value: '5' } });
    fireEvent.click(screen.getByRole('button', { name: 'Submit job' }));
    await waitFor(() => expect(window.location.hash).toBe(`#/jobs/${id}`));
    expect(fetcher.calls[0]?.body).toEqual({ service: 'simulation', priority: 5, maxAttempts: 3, requirements: {}, payload: { durationMs: 5000, steps: 10, failureRate: 0 } });
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
    expect(fetcher.calls).toHaveLength(0);
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

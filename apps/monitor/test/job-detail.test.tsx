import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { JobEvent } from '../src/protocol.ts';
import { attemptsOf, findMedia } from '../src/views/job-detail-data.ts';
import { JobDetail } from '../src/views/JobDetail.tsx';
import { fakeFetch, on } from './fake-api.ts';
import { renderWithSession } from './render.tsx';
import { event, job, jobId, T0 } from './samples.ts';

const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const artifact = { key: 'default/1760000000000-0000000001/page.png', size: 2048, contentType: 'image/png', sha256: 'ab'.repeat(32) };

beforeEach(() => {
  URL.createObjectURL = vi.fn(() => 'blob:artifact-1');
  URL.revokeObjectURL = vi.fn();
});
afterEach(() => vi.restoreAllMocks());

function timelineOf(id: string): JobEvent[] {
  const error = { code: 'SIMULATED_FAILURE', message: 'simulated failure at step 2/4', retryable: true };
  return [
    event({ job: id, type: 'pending', service: 'playwright', ts: T0 }),
    event({ job: id, type: 'active', worker: 'box:worker-api', machine: 'box', attempt: 1, ts: T0 + 10 }),
    event({ job: id, type: 'progress', progress: { percent: 25 }, ts: T0 + 20 }),
    event({ job: id, type: 'progress', progress: { percent: 50 }, ts: T0 + 30 }),
    event({ job: id, type: 'retrying', error, dueAt: T0 + 1000, ts: T0 + 40 }),
    event({ job: id, type: 'pending', reason: 'promoted', ts: T0 + 1000 }),
    event({ job: id, type: 'active', worker: 'box2:worker-api', machine: 'box2', attempt: 2, ts: T0 + 1010 }),
    event({ job: id, type: 'completed', ts: T0 + 2000 }),
    event({ job: id, type: 'webhook', delivery: 'retrying', httpStatus: 503, webhookAttempt: 1, dueAt: T0 + 3000, ts: T0 + 2100 }),
    event({ job: id, type: 'webhook', delivery: 'delivered', httpStatus: 200, webhookAttempt: 2, ts: T0 + 3100 }),
  ];
}

describe('job detail', () => {
  it('shows the timeline, attempts, webhook deliveries and the result with its images inline', async () => {
    const id = jobId();
    const done = job({ id, service: 'playwright', status: 'completed', attempts: 2, worker: 'box2:worker-api', machine: 'box2', startedAt: T0 + 1010, finishedAt: T0 + 2000, result: { artifact, title: 'Example', thumbnail: PNG } });
    const fetcher = fakeFetch(
      on('GET', `/api/jobs/${id}`, () => ({ status: 200, body: { job: done, timeline: timelineOf(id) } })),
      on('GET', `/api/artifacts/default/1760000000000-0000000001/page.png`, () => ({ status: 200, blob: new Blob(['png'], { type: 'image/png' }) })),
    );
    renderWithSession(<JobDetail id={id} />, fetcher, 'admin-key');
    await screen.findByRole('table', { name: 'Timeline' });

    expect(screen.getByRole('progressbar', { name: 'job progress' }).getAttribute('aria-valuenow')).toBe('100');
    const attempts = within(screen.getByRole('table', { name: 'Attempts' })).getAllByRole('row').slice(1);
    expect(attempts.map((r) => r.textContent)).toEqual([expect.stringMatching(/^1box:worker-api · boxretrying.*SIMULATED_FAILURE/), expect.stringMatching(/^2box2:worker-api · box2completed/)]);
    const timeline = screen.getByRole('table', { name: 'Timeline' });
    expect(timeline.querySelectorAll('[data-event="progress"]')).toHaveLength(1);
    expect(timeline.textContent).toContain('(+1 earlier progress reports)');
    const webhooks = [...timeline.querySelectorAll('[data-event="webhook"]')].map((r) => r.textContent);
    expect(webhooks).toEqual([expect.stringContaining('delivery 1: retrying (HTTP 503)'), expect.stringContaining('delivery 2: delivered (HTTP 200)')]);

    const images = await screen.findAllByRole('img');
    await waitFor(() => expect(images.map((i) => i.getAttribute('src'))).toEqual(['blob:artifact-1', PNG]));
    const artifactCall = fetcher.calls.find((c) => c.path.startsWith('/api/artifacts/'));
    expect(artifactCall?.headers.authorization).toBe('Bearer admin-key');
    expect(screen.getByLabelText('Result JSON').textContent).toContain('"title": "Example"');
    expect(screen.getByLabelText('Result JSON').textContent).not.toContain('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg');
  });

  it('cancels from the page and shows what the API answered', async () => {
    const id = jobId();
    let status = 'active';
    const fetcher = fakeFetch(
      on('GET', `/api/jobs/${id}`, () => ({ status: 200, body: { job: job({ id, status: status as 'active', cancelRequested: status !== 'active' }), timeline: [] } })),
      on('POST', `/api/jobs/${id}/cancel`, () => {
        status = 'cancelled';
        return { status: 200, body: { id, status: 'cancelled' } };
      }),
    );
    const { session } = renderWithSession(<JobDetail id={id} />, fetcher);
    fireEvent.click(await screen.findByRole('button', { name: 'Cancel job' }));
    expect((await screen.findByRole('status')).textContent).toBe('Cancelled.');
    await screen.findByRole('button', { name: 'Retry job' });
    expect(session.store.view().jobs.get(id)?.status).toBe('cancelled');
  });

  it('moves its progress bar with live progress events', async () => {
    const id = jobId();
    const fetcher = fakeFetch(on('GET', `/api/jobs/${id}`, () => ({ status: 200, body: { job: job({ id, status: 'active' }), timeline: [] } })));
    const { session } = renderWithSession(<JobDetail id={id} />, fetcher);
    const bar = await screen.findByRole('progressbar', { name: 'job progress' });
    act(() => {
      session.store.applyDelta({ type: 'delta', seq: 1, at: T0, fleet: [], jobs: [event({ job: id, type: 'progress', progress: { percent: 80, message: 'step 8/10' } })] });
    });
    expect(bar.getAttribute('aria-valuenow')).toBe('80');
    expect(screen.getByText('step 8/10')).toBeTruthy();
  });

  it('says so when the job does not exist', async () => {
    renderWithSession(<JobDetail id={jobId()} />, fakeFetch());
    expect(await screen.findByText(/does not exist/)).toBeTruthy();
  });
});

describe('job detail helpers', () => {
  it('folds a timeline into attempts, a running one left open', () => {
    const id = jobId();
    const attempts = attemptsOf([...timelineOf(id).slice(0, 7)]);
    expect(attempts.map((a) => [a.number, a.outcome])).toEqual([
      [1, 'retrying'],
      [2, 'running'],
    ]);
  });

  it('finds artifact images and data: images anywhere in a result', () => {
    const media = findMedia({ images: [{ artifact }, { artifact: { ...artifact, key: 'x/y/z.pdf', contentType: 'application/pdf' } }], nested: { deep: [PNG] }, text: 'data:text/plain;base64,AAAA' });
    expect(media.map((m) => m.path)).toEqual(['result.images[0].artifact', 'result.images[1].artifact', 'result.nested.deep[0]']);
  });
});

import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { Shell } from '../src/app/Shell.tsx';
import type { Job, JobStatus } from '../src/protocol.ts';
import { fakeFetch, on } from './fake-api.ts';
import { renderWithSession } from './render.tsx';
import { job, jobId, snapshot, T0 } from './samples.ts';

const STATUSES: JobStatus[] = ['pending', 'active', 'completed', 'failed'];

function manyJobs(n: number): Job[] {
  return Array.from({ length: n }, (_, i) =>
    job({ id: jobId(T0 + i, i), status: STATUSES[i % 4] as JobStatus, service: i % 2 ? 'simulation' : 'playwright', machine: i % 3 ? 'box-a' : 'box-b', progress: { percent: i % 100 } }),
  );
}

afterEach(() => {
  window.location.hash = '';
});

describe('jobs list', () => {
  it('keeps only the visible rows of 10,000 jobs in the DOM and renders others on scroll', () => {
    window.location.hash = '#/jobs';
    const { session } = renderWithSession(<Shell apiUrl="http://api.test" />, fakeFetch());
    const jobs = manyJobs(10_000);
    act(() => {
      session.store.applySnapshot(snapshot({ recentJobs: jobs }));
    });
    const table = screen.getByRole('table', { name: 'Jobs' });
    expect(table.getAttribute('aria-rowcount')).toBe('10000');
    const rows = () => within(table).getAllByRole('row');
    expect(rows().length).toBeLessThan(50);
    // Newest first.
    expect(rows()[0]?.textContent).toContain(jobs.at(-1)?.id);

    act(() => {
      table.scrollTop = 40 * 9000;
      fireEvent.scroll(table);
    });
    const indexes = rows().map((r) => Number(r.getAttribute('aria-rowindex')));
    expect(Math.min(...indexes)).toBeGreaterThan(8900);
    expect(rows().length).toBeLessThan(50);
    expect(rows().some((r) => r.textContent?.includes(jobs[10_000 - 9001]?.id as string))).toBe(true);
  });

  it('filters by status, service and machine from the controls and keeps the filter in the URL', async () => {
    window.location.hash = '#/jobs';
    const { session } = renderWithSession(<Shell apiUrl="http://api.test" />, fakeFetch());
    act(() => {
      session.store.applySnapshot(snapshot({ recentJobs: manyJobs(400) }));
    });
    const table = () => screen.getByRole('table', { name: 'Jobs' });
    const count = () => Number(table().getAttribute('aria-rowcount'));
    fireEvent.click(screen.getByRole('button', { name: /^failed/ }));
    await waitFor(() => expect(count()).toBe(100));
    expect(window.location.hash).toBe('#/jobs?status=failed');
    fireEvent.change(screen.getByLabelText('Service'), { target: { value: 'simulation' } });
    await waitFor(() => expect(window.location.hash).toBe('#/jobs?status=failed&service=simulation'));
    // Failed jobs are every 4th (odd index → simulation), so all 100 remain.
    expect(count()).toBe(100);
    fireEvent.change(screen.getByLabelText('Machine'), { target: { value: 'box-b' } });
    await waitFor(() => expect(count()).toBe(34));
    for (const row of within(table()).getAllByRole('row')) expect(row.querySelector('[data-status]')?.getAttribute('data-status')).toBe('failed');
  });

  it('shows live progress bars that move with progress events', () => {
    window.location.hash = '#/jobs';
    const { session } = renderWithSession(<Shell apiUrl="http://api.test" />, fakeFetch());
    const j = job({ status: 'active' });
    act(() => {
      session.store.applySnapshot(snapshot({ recentJobs: [j] }));
    });
    const bar = () => screen.getByRole('progressbar', { name: `job ${j.id} progress` });
    expect(bar().getAttribute('aria-valuenow')).toBe('0');
    act(() => {
      session.store.applyDelta({ type: 'delta', seq: 11, at: T0, fleet: [], jobs: [{ id: '1-1', job: j.id, tenant: 'default', type: 'progress', ts: T0 + 10, progress: { percent: 70 } }] });
    });
    expect(bar().getAttribute('aria-valuenow')).toBe('70');
  });

  it('loads older jobs from the API with the current filter', async () => {
    window.location.hash = '#/jobs?status=completed';
    const older = job({ id: jobId(T0 - 86_400_000, 1), status: 'completed' });
    const fetcher = fakeFetch(on('GET', '/api/jobs?status=completed&limit=500', () => ({ status: 200, body: { jobs: [older] } })));
    renderWithSession(<Shell apiUrl="http://api.test" />, fetcher);
    fireEvent.click(screen.getByRole('button', { name: 'Load older from the API' }));
    expect(await screen.findByText(older.id)).toBeTruthy();
    expect(screen.getByRole('button', { name: 'All loaded' })).toBeTruthy();
  });
});

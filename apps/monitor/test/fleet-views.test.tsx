import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Machines } from '../src/views/Machines.tsx';
import { Overview } from '../src/views/Overview.tsx';
import { Workers } from '../src/views/Workers.tsx';
import { fakeFetch, on } from './fake-api.ts';
import { renderWithSession } from './render.tsx';
import { delta, event, jobId, machine, snapshot, T0, worker } from './samples.ts';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(T0);
});
afterEach(() => vi.useRealTimers());

describe('machines view', () => {
  it('shows status, installer progress, GPUs with memory, connectors, workers and the last heartbeat', () => {
    const { session } = renderWithSession(<Machines />, fakeFetch());
    act(() => {
      session.store.applySnapshot(snapshot({ machines: [machine({ status: 'installing', lastSeen: T0 - 3000 })] }));
    });
    const card = screen.getByRole('article', { name: 'machine gpu-box-1' });
    expect(within(card).getByText('installing')).toBeTruthy();
    expect(within(card).getByRole('progressbar', { name: 'comfyui installer' }).getAttribute('aria-valuenow')).toBe('42');
    expect(within(card).getByText('downloading models 3/7')).toBeTruthy();
    expect(within(card).getByRole('progressbar', { name: 'GPU 0 memory used' }).getAttribute('aria-valuenow')).toBe('27');
    expect(card.textContent).toContain('21 GiB / 80 GiB');
    expect(card.textContent).toContain('3.0 s ago');
    expect(within(card).getByText('gpu-box-1:worker-gpu0').parentElement?.textContent).toContain('not reporting');
    expect(within(card).getByText('gpu-box-1:worker-api').parentElement?.textContent).toContain('busy');
  });

  it('adds and removes services at runtime through the API, and shows each change with its progress', async () => {
    const queued = (call: { path: string }) => ({ status: 202, body: { machineId: 'gpu-box-1', operation: { id: 'op', action: 'add', service: call.path, status: 'queued' } } });
    const fetcher = fakeFetch(on('POST', '/api/machines/gpu-box-1/services', queued), on('DELETE', '/api/machines/gpu-box-1/services/simulation', queued));
    const { session } = renderWithSession(<Machines />, fetcher);
    act(() => {
      session.store.applySnapshot(
        snapshot({
          machines: [
            machine({
              addable: ['comfyui', 'playwright', 'simulation'],
              elastic: ['ollama'],
              operations: [{ id: 'o1', action: 'add', service: 'ollama', origin: 'elastic', status: 'installing', progress: { percent: 30, message: 'checking OLLAMA_URL' }, requestedAt: T0 }],
            }),
          ],
        }),
      );
    });
    const card = screen.getByRole('article', { name: 'machine gpu-box-1' });
    expect(within(card).getByRole('progressbar', { name: 'add ollama' }).getAttribute('aria-valuenow')).toBe('30');
    expect(card.textContent).toContain('checking OLLAMA_URL');
    expect(card.textContent).toContain('elastic: ollama');
    const select = within(card).getByRole('combobox', { name: 'service to add' });
    expect([...select.querySelectorAll('option')].map((o) => o.textContent)).toEqual(['playwright']);
    fireEvent.click(within(card).getByRole('button', { name: 'Add service' }));
    await waitFor(() => expect(within(card).getByRole('button', { name: 'remove simulation' }).hasAttribute('disabled')).toBe(false));
    fireEvent.click(within(card).getByRole('button', { name: 'remove simulation' }));
    await waitFor(() => expect(fetcher.calls.map((c) => [c.method, c.path, c.body])).toEqual([
      ['POST', '/api/machines/gpu-box-1/services', { service: 'playwright' }],
      ['DELETE', '/api/machines/gpu-box-1/services/simulation', undefined],
    ]));
  });

  it('shows the API refusal of a service change', async () => {
    const fetcher = fakeFetch(on('POST', '/api/machines/gpu-box-1/services', () => ({ status: 409, body: { error: { code: 'SERVICE_ALREADY_RUNS', message: 'playwright already runs on machine gpu-box-1', issues: [] } } })));
    const { session } = renderWithSession(<Machines />, fetcher);
    act(() => {
      session.store.applySnapshot(snapshot({ machines: [machine({ addable: ['playwright'] })] }));
    });
    fireEvent.click(screen.getByRole('button', { name: 'Add service' }));
    expect((await screen.findByRole('alert')).textContent).toBe('SERVICE_ALREADY_RUNS: playwright already runs on machine gpu-box-1');
  });

  it('shows a GPU whose ComfyUI does not answer its health check yet as warming, the other as ready', () => {
    const { session } = renderWithSession(<Machines />, fakeFetch());
    const gpuServices = [
      { gpu: 0, service: 'comfyui', status: 'ready' as const, since: T0 - 60_000 },
      { gpu: 1, service: 'comfyui', status: 'warming' as const, since: T0 - 5000 },
    ];
    act(() => {
      session.store.applySnapshot(snapshot({ machines: [machine({ status: 'warming', gpuServices })] }));
    });
    const card = screen.getByRole('article', { name: 'machine gpu-box-1' });
    expect(within(card).getAllByText('warming')).toHaveLength(2);
    const gpus = within(card).getAllByRole('listitem').filter((li) => li.classList.contains('gpu'));
    expect(gpus.map((li) => li.querySelector('.gpu-head span')?.textContent)).toEqual([
      'GPU 0 NVIDIA A100-SXM4-80GB comfyui ready',
      'GPU 1 NVIDIA A100-SXM4-80GB comfyui warming',
    ]);
  });

  it('turns a machine offline when its heartbeats stop', () => {
    const { session } = renderWithSession(<Machines />, fakeFetch());
    act(() => {
      session.store.applySnapshot(snapshot({ machines: [machine({ lastSeen: T0 - 20_000 })] }));
    });
    expect(within(screen.getByRole('article', { name: 'machine gpu-box-1' })).getByText('offline')).toBeTruthy();
  });

  it('lists workers that run without a machine agent under their machine id', () => {
    const { session } = renderWithSession(<Machines />, fakeFetch());
    act(() => {
      session.store.applySnapshot(snapshot({ machines: [], workers: [worker({ machineId: 'laptop', workerId: 'laptop-worker-1' })] }));
    });
    expect(screen.getByRole('article', { name: 'machine laptop' }).textContent).toContain('standalone worker processes');
  });
});

describe('workers view', () => {
  it('shows each worker with its current job progress, jobs done and errors', () => {
    const { session } = renderWithSession(<Workers />, fakeFetch());
    const current = jobId();
    act(() => {
      session.store.applySnapshot(snapshot({ workers: [worker({ currentJobs: [{ id: current, progress: { percent: 30, message: 'step 3/10' } }] })] }));
    });
    const row = screen.getByText('gpu-box-1:worker-api').closest('tr') as HTMLElement;
    expect(within(row).getByRole('progressbar', { name: `job ${current} progress` }).getAttribute('aria-valuenow')).toBe('30');
    expect(within(row).getByRole('link', { name: current }).getAttribute('href')).toBe(`#/jobs/${current}`);
    expect(row.textContent).toContain('120');
    expect(row.textContent).toContain('1 / 4 slots');
    act(() => {
      session.store.applyDelta(delta({ fleet: [{ kind: 'worker', worker: worker({ currentJobs: [{ id: current, progress: { percent: 90 } }], jobsFailed: 4 }) }] }));
    });
    expect(within(row).getByRole('progressbar', { name: `job ${current} progress` }).getAttribute('aria-valuenow')).toBe('90');
  });
});

const stat = (label: string) => screen.getByRole('group', { name: label }).textContent;

describe('overview', () => {
  it('draws throughput, failure rate, queues and workers as charts with the headline figures', () => {
    const { session } = renderWithSession(<Overview />, fakeFetch());
    act(() => {
      session.store.applySnapshot(snapshot());
      const finished = Array.from({ length: 12 }, (_, i) => event({ job: jobId(), type: i % 4 === 0 ? 'failed' : 'completed', ts: T0 - 30_000 + i * 1000 }));
      session.store.applyDelta(delta({ jobs: finished }));
    });
    for (const name of ['Throughput, jobs per second', 'Failure rate per minute', 'Queue depth per service', 'Age of the oldest waiting job per service', 'Workers busy and idle over time']) {
      const chart = screen.getByRole('img', { name });
      expect(chart.querySelectorAll('path').length).toBeGreaterThan(0);
    }
    expect(stat('Failure rate')).toContain('25%');
    expect(stat('Failure rate')).toContain('3 of 12 in the last hour');
    expect(stat('Waiting jobs')).toContain('oldest 30 s');
    expect(stat('Workers busy')).toContain('1 / 1');
    expect(screen.getByRole('img', { name: /^Workers now/ }).getAttribute('aria-label')).toBe('Workers now: 1 busy, 0 idle, 0 starting, draining or offline');
    const queue = screen.getByRole('table', { name: 'Queues now' });
    expect(within(queue).getAllByRole('row')[1]?.textContent).toMatch(/simulation.*default.*any worker.*4.*30 s.*1/);
  });
});

import { act, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { Workers } from '../src/views/Workers.tsx';
import { fakeFetch, on } from './fake-api.ts';
import { renderWithSession } from './render.tsx';
import { snapshot, worker } from './samples.ts';

describe('workers view: warm models', () => {
  it('shows the models each GPU worker holds warm, a preload in progress, and per-model run and load times', async () => {
    const stats = {
      service: 'comfyui',
      models: [{ classId: 'abcdef0123456789abcdef01', model: 'sdxl.safetensors', runMs: 14_200, loadMs: 38_000, runs: 12, loads: 3 }],
      classes: { abcdef0123456789abcdef01: { services: ['comfyui'], gpuMemoryMb: 24_576 } },
    };
    const fetcher = fakeFetch(on('GET', '/api/services/comfyui/stats', () => ({ status: 200, body: stats })));
    const { session } = renderWithSession(<Workers />, fetcher);
    act(() => {
      session.store.applySnapshot(
        snapshot({
          workers: [
            worker({ workerId: 'box:worker-gpu0', services: ['comfyui'], gpuIndex: 0, warmModels: ['sdxl.safetensors', 'detail-lora.safetensors'] }),
            worker({ workerId: 'box:worker-gpu1', services: ['comfyui'], gpuIndex: 1, warming: 'flux-dev.safetensors' }),
          ],
        }),
      );
    });
    const gpu0 = screen.getByRole('row', { name: /worker-gpu0/ });
    expect(within(gpu0).getByText('sdxl.safetensors')).toBeTruthy();
    expect(within(gpu0).getByText('detail-lora.safetensors')).toBeTruthy();
    expect(within(screen.getByRole('row', { name: /worker-gpu1/ })).getByText('warming flux-dev.safetensors')).toBeTruthy();
    const times = await screen.findByRole('table', { name: 'Model run and load times' });
    const row = await within(times).findByText('sdxl.safetensors');
    expect(row.closest('tr')?.textContent).toContain('GPU 24 GiB');
    expect(row.closest('tr')?.textContent).toContain('14 s');
    expect(row.closest('tr')?.textContent).toContain('38 s');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { COMFYUI_VERSIONS, startComfyUIEmulator, type ComfyUIEmulator } from '../../../src/index.ts';

/** A sampler graph: previews are sent per sampling step (`--preview-method auto`). A new seed each time, or it is cached. */
let seed = 0;
const sampler = () => ({
  '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'v1-5-pruned-emaonly.safetensors' } },
  '5': { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 64, batch_size: 1 } },
  '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a lighthouse', clip: ['4', 1] } },
  '3': {
    class_type: 'KSampler',
    inputs: { seed: ++seed, steps: 2, cfg: 8, sampler_name: 'euler', scheduler: 'normal', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['6', 0], latent_image: ['5', 0] },
  },
  '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
  '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'previews', images: ['8', 0] } },
});

type Received = { json: { type: string; data: Record<string, unknown> } } | { binary: Buffer };

describe.each(COMFYUI_VERSIONS)('ComfyUI emulator %s: sampling previews', (version) => {
  let emulator: ComfyUIEmulator;

  beforeAll(async () => {
    emulator = await startComfyUIEmulator({ version, previews: true, stepMs: 5 });
  });

  afterAll(async () => {
    await emulator?.stop();
  });

  /** Runs the sampler graph on a client that may announce feature flags first; returns what it received. */
  async function sample(flags: boolean): Promise<Received[]> {
    const clientId = `previews-${flags}-${Math.random().toString(36).slice(2)}`;
    const ws = new WebSocket(`${emulator.url.replace('http', 'ws')}/ws?clientId=${clientId}`);
    const received: Received[] = [];
    const ended = new Promise<void>((resolve) =>
      ws.on('message', (raw: Buffer, isBinary) => {
        if (isBinary) return void received.push({ binary: raw });
        const json = JSON.parse(raw.toString()) as { type: string; data: Record<string, unknown> };
        received.push({ json });
        if (json.type === 'executing' && json.data.node === null) resolve();
      }),
    );
    await new Promise((resolve) => ws.once('open', resolve));
    if (flags) ws.send(JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } }));
    await fetch(`${emulator.url}/prompt`, { method: 'POST', body: JSON.stringify({ prompt: sampler(), client_id: clientId }) });
    await ended;
    ws.close();
    return received;
  }

  const binaries = (received: Received[]) => received.flatMap((r) => ('binary' in r ? [r.binary] : []));

  it('sends a plain PNG preview frame (event 1) per step to a client without feature flags', async () => {
    const frames = binaries(await sample(false));
    expect(frames.map((f) => f.readUInt32BE(0))).toEqual([1, 1]);
    // Format 2 is PNG; the image follows.
    expect(frames.map((f) => [f.readUInt32BE(4), f.subarray(9, 12).toString('latin1')])).toEqual([
      [2, 'PNG'],
      [2, 'PNG'],
    ]);
  });

  it('answers feature flags and sends previews with metadata (event 4) only where the version has them', async () => {
    const received = await sample(true);
    const frames = binaries(received);
    const answered = received.some((r) => 'json' in r && r.json.type === 'feature_flags');
    if (version === 'v0.3.10') {
      expect(answered).toBe(false);
      expect(frames.map((f) => f.readUInt32BE(0))).toEqual([1, 1]);
      return;
    }
    expect(answered).toBe(true);
    expect(frames.map((f) => f.readUInt32BE(0))).toEqual([4, 4]);
    const [first] = frames;
    const length = first?.readUInt32BE(4) ?? 0;
    expect(JSON.parse(first?.subarray(8, 8 + length).toString() ?? '{}')).toMatchObject({ node_id: '3', display_node_id: '3', image_type: 'image/png' });
    expect(first?.subarray(8 + length + 1, 8 + length + 4).toString('latin1')).toBe('PNG');
  });

  it('orders each step as the version does: progress_state and preview before progress on current versions, preview after on v0.3.10', async () => {
    const received = await sample(false);
    const steps = received
      .map((r) => ('binary' in r ? 'preview' : r.json.type))
      .filter((t) => ['preview', 'progress', 'progress_state'].includes(t))
      // progress_state also marks each node's start and end; keep the sampler's steps.
      .join(' ')
      .match(/(progress_state )?preview progress|progress preview/g);
    expect(steps).toEqual(version === 'v0.3.10' ? ['progress preview', 'progress preview'] : ['progress_state preview progress', 'progress_state preview progress']);
  });
});

import { describe, expect, it } from 'vitest';
import { CONTRACTS, contractFor, modelsOf, payloadIssues } from '../src/index.ts';
import { payloadJsonSchema } from '../src/json-schema.ts';

describe.each(Object.entries(CONTRACTS))('%s contract', (name, contract) => {
  it('is listed under its own name, and its example passes its payload schema', () => {
    expect(contract.name).toBe(name);
    expect(contractFor(name)).toBe(contract);
    const parsed = contract.payload.safeParse(contract.example);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  });

  it('has a self-contained JSON Schema of an object that refuses unknown fields', () => {
    const schema = payloadJsonSchema(contract);
    expect(JSON.stringify(schema)).not.toContain('$ref');
    const object = (schema.anyOf as Record<string, unknown>[] | undefined) ?? [schema];
    for (const branch of object) expect(branch).toMatchObject({ type: 'object', additionalProperties: false });
  });
});

it('knows no contract for a custom service, and names no models for it', () => {
  expect(contractFor('my-custom-thing')).toBeUndefined();
  expect(contractFor('toString')).toBeUndefined();
  expect(modelsOf('my-custom-thing', { model: 'x' })).toEqual([]);
});

it('refuses the payloads that used to fail only on a worker, naming the field', () => {
  const sim = CONTRACTS.simulation.payload.safeParse({ durationMs: -5, bogus: 1 });
  expect(sim.error?.issues.map((i) => [i.path.join('.'), i.code])).toEqual(
    expect.arrayContaining([
      ['durationMs', 'too_small'],
      ['', 'unrecognized_keys'],
    ]),
  );
  const comfy = CONTRACTS.comfyui.payload.safeParse({ workflow: {} });
  expect(comfy.error?.issues).toEqual([expect.objectContaining({ path: ['workflow'], message: 'has no nodes' })]);
});

describe('models', () => {
  it('lists the files a ComfyUI workflow loads, once each, and not sampler settings or links', () => {
    const workflow = {
      '1': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sdxl.safetensors' } },
      '2': { class_type: 'LoraLoader', inputs: { lora_name: 'ink.safetensors', model: ['1', 0], clip: ['1', 1], strength_model: 1 } },
      '3': { class_type: 'VAELoader', inputs: { vae_name: 'sdxl-vae.safetensors' } },
      '4': { class_type: 'DualCLIPLoader', inputs: { clip_name1: 't5.safetensors', clip_name2: 'clip_l.safetensors', type: 'flux' } },
      '5': { class_type: 'KSampler', inputs: { sampler_name: 'euler', model: ['2', 0] } },
      '6': { class_type: 'LoraLoader', inputs: { lora_name: 'ink.safetensors', model: ['2', 0], clip: ['2', 1] } },
      '7': { class_type: 'ControlNetLoader', inputs: { control_net_name: ['8', 0] } },
    };
    expect(modelsOf('comfyui', { workflow })).toEqual(['sdxl.safetensors', 'ink.safetensors', 'sdxl-vae.safetensors', 't5.safetensors', 'clip_l.safetensors']);
    expect(modelsOf('comfyui', CONTRACTS.comfyui.example)).toEqual(['v1-5-pruned-emaonly.safetensors']);
  });

  it('names the chat model of openai and ollama, the model or version of replicate, nothing for the others', () => {
    expect(modelsOf('openai', CONTRACTS.openai.example)).toEqual(['gpt-4o-mini']);
    expect(modelsOf('openai', { operation: 'image', model: 'dall-e-3', prompt: 'a fox' })).toEqual(['dall-e-3']);
    expect(modelsOf('ollama', CONTRACTS.ollama.example)).toEqual(['qwen2.5:0.5b']);
    expect(modelsOf('replicate', CONTRACTS.replicate.example)).toEqual(['black-forest-labs/flux-schnell']);
    const version = `stability-ai/sdxl:${'a'.repeat(64)}`;
    expect(modelsOf('replicate', { version, input: {} })).toEqual([version]);
    for (const name of ['runpod', 'simulation', 'playwright'] as const) expect(modelsOf(name, CONTRACTS[name].example)).toEqual([]);
  });

  it('names nothing for a payload its contract refuses', () => {
    expect(modelsOf('ollama', { model: 'llama3.2' })).toEqual([]);
  });
});

it('names each problem of a payload under the field the request gives it', () => {
  expect(payloadIssues('simulation', { durationMs: -5, bogus: 1 })).toEqual(
    expect.arrayContaining([{ path: 'payload.durationMs', message: expect.any(String) }, { path: 'payload.bogus', message: 'is not a known field' }]),
  );
  expect(payloadIssues('comfyui', { workflow: {} }, 'input')).toEqual([{ path: 'input.workflow', message: 'has no nodes' }]);
  expect(payloadIssues('simulation', CONTRACTS.simulation.example)).toEqual([]);
  expect(payloadIssues('custom', 'anything')).toEqual([]);
});

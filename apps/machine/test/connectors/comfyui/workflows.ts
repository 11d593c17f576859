/** The default text-to-image graph in ComfyUI's API format, as "Save (API Format)" writes it. */
export function textToImage(options: { steps?: number; seed?: number; text?: string; prefix?: string; size?: number } = {}) {
  const size = options.size ?? 512;
  return {
    '3': {
      class_type: 'KSampler',
      inputs: {
        seed: options.seed ?? 156680208700286,
        steps: options.steps ?? 4,
        cfg: 8,
        sampler_name: 'euler',
        scheduler: 'normal',
        denoise: 1,
        model: ['4', 0],
        positive: ['6', 0],
        negative: ['7', 0],
        latent_image: ['5', 0],
      },
    },
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'v1-5-pruned-emaonly.safetensors' } },
    '5': { class_type: 'EmptyLatentImage', inputs: { width: size, height: size, batch_size: 1 } },
    '6': { class_type: 'CLIPTextEncode', inputs: { text: options.text ?? 'a lighthouse at dusk, oil painting', clip: ['4', 1] } },
    '7': { class_type: 'CLIPTextEncode', inputs: { text: 'blurry, watermark', clip: ['4', 1] } },
    '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
    '9': { class_type: 'SaveImage', inputs: { filename_prefix: options.prefix ?? 'ComfyUI', images: ['8', 0] }, _meta: { title: 'Save Image' } },
  };
}

/** The same graph with one required input of the sampler removed. */
export function missingModelInput() {
  const graph = textToImage();
  const { model: _model, ...inputs } = graph['3'].inputs;
  return { ...graph, '3': { class_type: 'KSampler', inputs } };
}

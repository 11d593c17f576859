import { textToImageWorkflow, type TextToImageOptions } from '@conveyor/connectors';

/** ComfyUI's stock text-to-image graph with the short, fixed settings these tests run it with. */
export function textToImage(options: TextToImageOptions = {}) {
  return textToImageWorkflow({ steps: 4, seed: 156680208700286, text: 'a lighthouse at dusk, oil painting', prefix: 'ComfyUI', ...options });
}

/** The same graph with one required input of the sampler removed. */
export function missingModelInput() {
  const graph = textToImage();
  const { model: _model, ...inputs } = graph['3'].inputs;
  return { ...graph, '3': { class_type: 'KSampler', inputs } };
}

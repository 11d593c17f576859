import { createHash } from 'node:crypto';

/** `llama3.2` and `llama3.2:latest` are the same model, as in Ollama's model names. */
export function normalizeModel(name: string): string {
  const lastSegment = name.slice(name.lastIndexOf('/') + 1);
  return lastSegment.includes(':') ? name : `${name}:latest`;
}

export function digestOf(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

export interface Layer {
  readonly digest: string;
  readonly size: number;
}

/** A pullable model's blobs: the weights and a small params blob. */
export function layersOf(model: string, weightsBytes: number): Layer[] {
  return [
    { digest: digestOf(`${model}/weights`), size: weightsBytes },
    { digest: digestOf(`${model}/params`), size: 96 },
  ];
}

/** One entry of `GET /api/tags`. */
export function tagEntry(model: string, size: number, modifiedAt: Date): Record<string, unknown> {
  return {
    name: model,
    model,
    modified_at: modifiedAt.toISOString(),
    size,
    digest: digestOf(model).slice('sha256:'.length),
    details: { parent_model: '', format: 'gguf', family: 'llama', families: ['llama'], parameter_size: '1.2B', quantization_level: 'Q4_K_M' },
  };
}

/** The default reply: echoes the last user message, so tests can check what reached the model. */
export function echoReply(messages: readonly { role?: unknown; content?: unknown }[]): string {
  const last = [...messages].reverse().find((m) => m.role === 'user');
  return `You said: ${typeof last?.content === 'string' ? last.content : ''}`;
}

/** Splits text into tokens the way a stream delivers them: words with their leading space. */
export function tokenize(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

import { ConveyorError } from '@conveyor/core';
import type { ZodType, ZodTypeDef } from 'zod';

/**
 * Parses a newline-delimited JSON body line by line as it arrives, each line checked against
 * `schema`. The response's own abort signal ends the iteration with its abort error.
 */
export async function* ndjson<T>(res: Response, schema: ZodType<T, ZodTypeDef, unknown>): AsyncGenerator<T> {
  if (!res.body) return;
  const decoder = new TextDecoder();
  let buffered = '';
  const parse = (line: string): T => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new ConveyorError('OLLAMA_BAD_RESPONSE', `Ollama sent a line that is not JSON: ${line.slice(0, 200)}`);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new ConveyorError('OLLAMA_BAD_RESPONSE', `Ollama sent an unexpected line: ${line.slice(0, 200)}`);
    return parsed.data;
  };
  for await (const chunk of res.body) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line !== '') yield parse(line);
    }
  }
  const rest = (buffered + decoder.decode()).trim();
  if (rest !== '') yield parse(rest);
}

import { z } from 'zod';
import { millisSetting, optionalSetting, urlSetting } from '../settings.ts';

const KEY_FIX = 'set it to an OpenAI API key (https://platform.openai.com/api-keys)';

/** The openai connector's settings, read once at worker start through `readSettings`. */
export const OpenAISettings = z.object({
  /** Sent as `Authorization: Bearer <key>`. */
  OPENAI_API_KEY: z.string({ required_error: `is not set; ${KEY_FIX}` }).min(1, `is empty; ${KEY_FIX}`),
  /** Any OpenAI-compatible server (a proxy, vLLM, an emulator); default the OpenAI API. */
  OPENAI_BASE_URL: optionalSetting(urlSetting('https://api.openai.com/v1')).transform((v) => v ?? 'https://api.openai.com/v1'),
  /** Per-request time limit; a long generation that needs more should raise it. */
  OPENAI_TIMEOUT_MS: millisSetting(600_000, 'OPENAI_TIMEOUT_MS=600000'),
});

import { z } from 'zod';
import { millisSetting, optionalSetting, urlSetting } from '../settings.ts';

const TOKEN_FIX = 'set it to a Replicate API token (https://replicate.com/account/api-tokens)';

/** The replicate connector's settings, read once at worker start through `readSettings`. */
export const ReplicateSettings = z.object({
  /** Sent as `Authorization: Bearer <token>`. */
  REPLICATE_API_TOKEN: z.string({ required_error: `is not set; ${TOKEN_FIX}` }).min(1, `is empty; ${TOKEN_FIX}`),
  /** The API root, for proxies and emulators; default Replicate's. */
  REPLICATE_BASE_URL: optionalSetting(urlSetting('https://api.replicate.com/v1')).transform((v) => v ?? 'https://api.replicate.com/v1'),
  /** Pause between status checks of a running prediction; each check is one API request. */
  REPLICATE_POLL_INTERVAL_MS: millisSetting(1000, 'REPLICATE_POLL_INTERVAL_MS=1000'),
});

import { createConnector } from '../../connectors/index.ts';
import { ConfigError, InstallerError } from '../errors.ts';
import type { Installer } from './types.ts';

/**
 * API connectors install nothing; they need their key or URL (OPENAI_API_KEY, REPLICATE_API_TOKEN,
 * RUNPOD_API_KEY, OLLAMA_URL). The check is the connector's own settings parse, run once here
 * against the environment its worker will inherit, so the agent and the worker never disagree.
 */
export const checkApiSettings: Installer = async (ctx) => {
  let connector;
  try {
    connector = await createConnector(ctx.connector, { env: ctx.env, logger: ctx.logger });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new InstallerError(ctx.connector, err.issues.map((i) => `${i.variable} ${i.message}`).join('; '), 'MISSING_SETTING', { cause: err });
  }
  await connector.close?.();
  ctx.progress({ percent: 100, message: 'settings present' });
  return { status: 'done' };
};

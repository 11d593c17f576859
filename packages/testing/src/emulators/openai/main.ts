import { parseArgs } from 'node:util';
import { OpenAIEmulator } from './server.ts';

/**
 * Runs the emulator as its own process (the container test's `openai` compose service):
 * `--listen HOST --port PORT`; clients use `http://HOST:PORT/v1` with the key in
 * OPENAI_EMULATOR_API_KEY (default sk-emulator).
 */
const { values } = parseArgs({ options: { listen: { type: 'string' }, port: { type: 'string' } }, strict: true });
const port = values.port === undefined ? 8080 : Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port ${values.port}: give a TCP port such as 8080`);

const emulator = await OpenAIEmulator.start({ host: values.listen ?? '127.0.0.1', port, apiKey: process.env.OPENAI_EMULATOR_API_KEY || undefined });
process.stdout.write(`OpenAI emulator on ${emulator.baseUrl}\n`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => void emulator.stop().then(() => process.exit(0)));
}

import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { CONNECTOR_CATALOG, KNOWN_CONNECTORS } from '../../src/agent/catalog.ts';
import { createConnector, IMPLEMENTED_CONNECTORS } from '../../src/connectors/index.ts';

/** Just enough for every connector to build; none of them is called. */
const SETTINGS = {
  OPENAI_API_KEY: 'sk-test',
  REPLICATE_API_TOKEN: 'r8_test',
  RUNPOD_API_KEY: 'rp_test',
  OLLAMA_URL: 'http://127.0.0.1:11434',
  CHROMIUM_PATH: '/usr/bin/chromium',
};

describe('connector catalog', () => {
  it('lists exactly the implemented connectors, and agrees with each on where it runs', async () => {
    expect(KNOWN_CONNECTORS).toEqual(IMPLEMENTED_CONNECTORS);
    for (const name of IMPLEMENTED_CONNECTORS) {
      const connector = await createConnector(name, { env: SETTINGS, logger: pino({ level: 'silent' }), gpu: { index: 0, memoryMb: 24_576 } });
      try {
        expect(CONNECTOR_CATALOG[name].kind, name).toBe(connector.kind);
        expect(connector.name).toBe(name);
      } finally {
        await connector.close?.();
      }
    }
  });
});

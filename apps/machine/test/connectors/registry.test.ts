import { expect, it } from 'vitest';
import { ConfigError } from '../../src/agent/errors.ts';
import { CONNECTOR_CATALOG, isKnownConnector } from '../../src/agent/catalog.ts';
import { createConnector, IMPLEMENTED_CONNECTORS } from '../../src/connectors/index.ts';
import { testLogger } from './harness.ts';

it('builds each implemented connector under its own name with the kind the agent plans for, or refuses naming its settings', async () => {
  expect(IMPLEMENTED_CONNECTORS).toEqual(expect.arrayContaining(['playwright', 'simulation']));
  const built: string[] = [];
  for (const name of IMPLEMENTED_CONNECTORS) {
    expect(isKnownConnector(name), `${name} is missing from the agent's catalog`).toBe(true);
    let connector;
    try {
      connector = await createConnector(name, { env: process.env, logger: testLogger });
    } catch (err) {
      // Connectors that need settings (API keys) refuse to start without them, by variable name.
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).issues.length).toBeGreaterThan(0);
      continue;
    }
    try {
      expect(connector.name).toBe(name);
      if (isKnownConnector(name)) expect(connector.kind).toBe(CONNECTOR_CATALOG[name].kind);
      built.push(name);
    } finally {
      await connector.close?.();
    }
  }
  expect(built).toEqual(expect.arrayContaining(['playwright', 'simulation']));
});

it('names the implemented connectors when asked for an unknown one', async () => {
  await expect(createConnector('teleport', { env: {}, logger: testLogger })).rejects.toThrow(
    `no connector named "teleport"; implemented: ${IMPLEMENTED_CONNECTORS.join(', ')}`,
  );
});

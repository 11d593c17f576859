import { ConveyorError, type Connector, type ConnectorSetup } from '@conveyor/core';

type ConnectorFactory = (setup: ConnectorSetup) => Promise<Connector<unknown>>;

/**
 * The one list of connector implementations. Each entry imports its module lazily, so a worker
 * loads (and a machine installs) only what its services need. Adding a connector: a folder here
 * and one line below.
 */
const factories = {
  simulation: async (setup) => (await import('./simulation/index.ts')).createSimulationConnector(setup),
  playwright: async (setup) => (await import('./playwright/index.ts')).createPlaywrightConnector(setup),
  openai: async (setup) => (await import('./openai/index.ts')).createOpenAIConnector(setup),
  replicate: async (setup) => (await import('./replicate/index.ts')).createReplicateConnector(setup),
  runpod: async (setup) => (await import('./runpod/index.ts')).createRunPodConnector(setup),
  comfyui: async (setup) => (await import('./comfyui/index.ts')).createComfyUIConnector(setup),
  ollama: async (setup) => (await import('./ollama/index.ts')).createOllamaConnector(setup),
} satisfies Record<string, ConnectorFactory>;

export type ImplementedConnector = keyof typeof factories;

export const IMPLEMENTED_CONNECTORS = Object.keys(factories).sort() as ImplementedConnector[];

export function isImplementedConnector(name: string): name is ImplementedConnector {
  return Object.hasOwn(factories, name);
}

/** Builds one connector for this process; its own settings are checked here, at start. */
export async function createConnector(name: string, setup: ConnectorSetup): Promise<Connector<unknown>> {
  if (!isImplementedConnector(name)) {
    throw new ConveyorError('UNKNOWN_CONNECTOR', `no connector named "${name}"; implemented: ${IMPLEMENTED_CONNECTORS.join(', ')}`);
  }
  return await factories[name](setup);
}

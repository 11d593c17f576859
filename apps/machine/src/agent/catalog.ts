/**
 * What the agent must know about each connector before any worker exists: where it runs (a GPU, or
 * the shared API/CPU worker), which installer prepares it, and how many jobs it runs at once by
 * default. The connector implementations live in ../connectors; this table only plans processes.
 */
export type ConnectorKind = 'gpu' | 'api' | 'cpu';
export type InstallerKind = 'comfyui' | 'playwright' | 'api-key' | 'none';

export interface CatalogEntry {
  readonly kind: ConnectorKind;
  readonly installer: InstallerKind;
  /** Concurrent jobs this connector adds to the API worker (api/cpu), or per GPU worker (gpu). */
  readonly defaultConcurrency: number;
}

export const CONNECTOR_CATALOG = {
  comfyui: { kind: 'gpu', installer: 'comfyui', defaultConcurrency: 1 },
  simulation: { kind: 'cpu', installer: 'none', defaultConcurrency: 4 },
  playwright: { kind: 'cpu', installer: 'playwright', defaultConcurrency: 2 },
  openai: { kind: 'api', installer: 'api-key', defaultConcurrency: 8 },
  replicate: { kind: 'api', installer: 'api-key', defaultConcurrency: 8 },
  runpod: { kind: 'api', installer: 'api-key', defaultConcurrency: 8 },
  ollama: { kind: 'api', installer: 'api-key', defaultConcurrency: 4 },
} as const satisfies Record<string, CatalogEntry>;

export type ConnectorName = keyof typeof CONNECTOR_CATALOG;

export const KNOWN_CONNECTORS = Object.keys(CONNECTOR_CATALOG).sort() as ConnectorName[];

export function isKnownConnector(name: string): name is ConnectorName {
  return Object.hasOwn(CONNECTOR_CATALOG, name);
}

export function catalogEntry(name: ConnectorName): CatalogEntry {
  return CONNECTOR_CATALOG[name];
}

import { CONTRACTS } from '@conveyor/connectors';
import type { ConnectorKind } from '@conveyor/core';

export type InstallerKind = 'comfyui' | 'playwright' | 'api-key' | 'none';

export interface CatalogEntry {
  readonly kind: ConnectorKind;
  readonly installer: InstallerKind;
  /** Concurrent jobs this connector adds to the API worker (api/cpu), or per GPU worker (gpu). */
  readonly defaultConcurrency: number;
}

/**
 * What the agent must know about each connector before any worker exists: where it runs (a GPU, or
 * the shared API/CPU worker: the kind its contract in @conveyor/connectors declares), which
 * installer prepares it, and how many jobs it runs at once by default. The connector
 * implementations live in ../connectors; this table only plans processes.
 */
export const CONNECTOR_CATALOG = {
  comfyui: { kind: CONTRACTS.comfyui.kind, installer: 'comfyui', defaultConcurrency: 1 },
  simulation: { kind: CONTRACTS.simulation.kind, installer: 'none', defaultConcurrency: 4 },
  playwright: { kind: CONTRACTS.playwright.kind, installer: 'playwright', defaultConcurrency: 2 },
  openai: { kind: CONTRACTS.openai.kind, installer: 'api-key', defaultConcurrency: 8 },
  replicate: { kind: CONTRACTS.replicate.kind, installer: 'api-key', defaultConcurrency: 8 },
  runpod: { kind: CONTRACTS.runpod.kind, installer: 'api-key', defaultConcurrency: 8 },
  ollama: { kind: CONTRACTS.ollama.kind, installer: 'api-key', defaultConcurrency: 4 },
} as const satisfies Record<string, CatalogEntry>;

export type ConnectorName = keyof typeof CONNECTOR_CATALOG;

export const KNOWN_CONNECTORS = Object.keys(CONNECTOR_CATALOG).sort() as ConnectorName[];

export function isKnownConnector(name: string): name is ConnectorName {
  return Object.hasOwn(CONNECTOR_CATALOG, name);
}

export function catalogEntry(name: ConnectorName): CatalogEntry {
  return CONNECTOR_CATALOG[name];
}

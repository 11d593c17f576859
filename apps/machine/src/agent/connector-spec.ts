import { isKnownConnector, KNOWN_CONNECTORS, type ConnectorName } from './catalog.ts';

/** One entry of WORKER_CONNECTORS: `name`, `name:<count>` or `name:auto`. */
export interface ConnectorRequest {
  readonly name: ConnectorName;
  /**
   * GPU connectors: how many GPUs to run on (`auto`: every GPU). API/CPU connectors: how many jobs
   * at once in the API worker (`auto`: the connector's default).
   */
  readonly count: number | 'auto';
}

const ENTRY = /^([a-z][a-z0-9-]*)(?::(auto|\d+))?$/;

/** Parses WORKER_CONNECTORS; returns the entries or a list of problems, each a full sentence. */
export function parseConnectorList(raw: string): { ok: true; value: ConnectorRequest[] } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const seen = new Set<string>();
  const value: ConnectorRequest[] = [];
  const entries = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (entries.length === 0) problems.push(`lists no connectors; name at least one of: ${KNOWN_CONNECTORS.join(', ')}`);
  for (const entry of entries) {
    const match = ENTRY.exec(entry.toLowerCase());
    if (!match) {
      problems.push(`"${entry}" is not "name", "name:<count>" or "name:auto"`);
      continue;
    }
    const [, name = '', count] = match;
    if (!isKnownConnector(name)) {
      problems.push(`unknown connector "${name}"; known connectors: ${KNOWN_CONNECTORS.join(', ')}`);
      continue;
    }
    if (seen.has(name)) {
      problems.push(`connector "${name}" is listed twice; list it once (use "${name}:<count>" for more)`);
      continue;
    }
    seen.add(name);
    const n = count === undefined || count === 'auto' ? 'auto' : Number(count);
    if (n !== 'auto' && n < 1) {
      problems.push(`"${entry}": the count must be at least 1 (or "auto")`);
      continue;
    }
    value.push({ name, count: n });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value };
}

export const COLORS = {
  completed: '#15803d',
  failed: '#dc2626',
  busy: '#2563eb',
  idle: '#94a3b8',
  other: '#f59e0b',
} as const;

const PALETTE = ['#2563eb', '#7c3aed', '#0891b2', '#c2410c', '#be185d', '#4d7c0f', '#0f766e', '#a16207'];

/** A stable colour per service name, so a service keeps its colour across charts and reloads. */
export function serviceColor(name: string): string {
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return PALETTE[hash % PALETTE.length] as string;
}

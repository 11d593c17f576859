/** Number formats shared by the report tables: thousands separators, fixed decimals. */
export const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
export const ms = (n: number) => fmt(n, 3);
export const pct = (n: number) => `${fmt(n * 100)}%`;

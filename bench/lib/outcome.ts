/**
 * A measurement that may fail on the broker under test (for example a Lua limit at fleet scale):
 * the run records the error and goes on, and the summary reports the figure as null.
 */
export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** The error's first line, trimmed: enough to name the failure in a table cell. */
export function errorLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const line = message.split('\n')[0] ?? message;
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

export async function attempt<T>(work: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (err) {
    return { ok: false, error: errorLine(err) };
  }
}

/** a ÷ b when both were measured, else null. */
export function ratioOf<T>(a: Outcome<T>, b: Outcome<T>, pick: (value: T) => number): number | null {
  if (!a.ok || !b.ok) return null;
  const denominator = pick(b.value);
  return denominator === 0 ? null : pick(a.value) / denominator;
}

/** The smallest 1, 2 or 5 × 10^k that is ≥ v (chart axis maximum); at least `floor`. */
export function niceCeil(v: number, floor = 1): number {
  const target = Math.max(v, floor);
  const power = 10 ** Math.floor(Math.log10(target));
  for (const step of [1, 2, 5, 10]) if (step * power >= target) return step * power;
  return 10 * power;
}

/** Maps a domain linearly onto a range. */
export function linear(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const span = d1 - d0 || 1;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

export interface Point {
  readonly t: number;
  readonly v: number;
}

/** SVG path through the points; gaps longer than `maxGapMs` break the line rather than bridge missing data. */
export function linePath(points: readonly Point[], x: (t: number) => number, y: (v: number) => number, maxGapMs = Infinity): string {
  let d = '';
  let prev: Point | undefined;
  for (const p of points) {
    const move = !prev || p.t - prev.t > maxGapMs;
    d += `${move ? 'M' : 'L'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`;
    prev = p;
  }
  return d;
}

/** A closed area between an upper line and a lower one (the baseline, or the series below when stacked). */
export function areaPath(upper: readonly Point[], lower: readonly Point[], x: (t: number) => number, y: (v: number) => number): string {
  if (upper.length === 0) return '';
  const top = upper.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join('');
  const bottom = [...lower].reverse().map((p) => `L${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join('');
  return `${top}${bottom}Z`;
}

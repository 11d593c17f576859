import { useLayoutEffect, useRef, useState, type ReactNode } from 'react';

export interface VirtualListProps {
  readonly count: number;
  readonly rowHeight: number;
  readonly renderRow: (index: number) => ReactNode;
  readonly label: string;
  /** Rows rendered beyond each edge of the viewport, so fast scrolling shows no blank band. */
  readonly overscan?: number;
  /** Used until the viewport has been measured (and where it cannot be, as in jsdom). */
  readonly fallbackHeight?: number;
}

/**
 * A fixed-row-height virtual list: only the rows in view (plus `overscan`) are in the DOM, each
 * absolutely positioned inside a spacer as tall as all rows, so 10,000 rows scroll like 30.
 */
export function VirtualList({ count, rowHeight, renderRow, label, overscan = 10, fallbackHeight = 600 }: VirtualListProps) {
  const ref = useRef<HTMLDivElement | null>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(fallbackHeight);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(([entry]) => {
      if (entry && entry.contentRect.height > 0) setHeight(entry.contentRect.height);
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((scrollTop + height) / rowHeight) + overscan);
  const rows: ReactNode[] = [];
  for (let i = first; i < last; i++) {
    rows.push(
      <div key={i} role="row" aria-rowindex={i + 1} className="vlist-row" style={{ top: i * rowHeight, height: rowHeight }}>
        {renderRow(i)}
      </div>,
    );
  }
  return (
    <div ref={ref} className="vlist" role="table" aria-label={label} aria-rowcount={count} onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}>
      <div className="vlist-spacer" style={{ height: count * rowHeight }}>
        {rows}
      </div>
    </div>
  );
}

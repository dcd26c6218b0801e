/** Small statistics for benchmark figures: medians and spread of repeated runs. */

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** One row of the result table: a metric measured once per run. */
export interface Figure {
  section: string;
  metric: string;
  unit: string;
  values: number[];
  /** Shown when set: what the figure is compared with. */
  note?: string;
}

/** "123 (110–130)" with a precision that suits the magnitude. */
export function formatFigure(f: Pick<Figure, 'values'>): string {
  const fmt = (x: number): string =>
    Number.isNaN(x) ? 'n/a' : Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2);
  if (f.values.length === 0) return 'n/a';
  const med = fmt(median(f.values));
  if (f.values.length === 1) return med;
  return `${med} (${fmt(Math.min(...f.values))}–${fmt(Math.max(...f.values))})`;
}

/** Figures collected over runs, in first-seen order. */
export class Figures {
  private readonly rows = new Map<string, Figure>();

  add(section: string, metric: string, unit: string, value: number): void {
    const key = `${section}\u0000${metric}`;
    let f = this.rows.get(key);
    if (!f) this.rows.set(key, (f = { section, metric, unit, values: [] }));
    f.values.push(value);
  }

  /** The median of a figure, or NaN when it was not measured. */
  median(section: string, metric: string): number {
    return median(this.rows.get(`${section}\u0000${metric}`)?.values ?? []);
  }

  all(): Figure[] {
    return [...this.rows.values()];
  }
}

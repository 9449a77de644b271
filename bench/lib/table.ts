/** The run's one table: every measurement with its target and mark, aligned for a terminal. */
import { mark, type Measurement, type Skipped, type Target } from './report';

export function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return 'n/a';
  const digits = unit === 'x' ? 2 : Math.abs(value) >= 100 || Number.isInteger(value) ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  const number = value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return unit === 'x' ? `${number}x` : `${number} ${unit}`;
}

export function formatTarget(target: Target | undefined, unit: string): string {
  if (target === undefined) return '';
  return `${target.op} ${formatValue(target.value, unit)}`;
}

export function renderTable(measurements: readonly Measurement[], skipped: readonly Skipped[]): string {
  const header = ['figure', 'measurement', 'value', 'target', 'mark'];
  const rows = measurements.map((m) => [m.figure, m.name, formatValue(m.value, m.unit), formatTarget(m.target, m.unit), mark(m)]);
  for (const s of skipped) rows.push([s.figure, `not run: ${s.reason}`, '', '', 'SKIP']);
  return alignColumns(header, rows, { rightAligned: [2], widest: { 1: 64 } });
}

export interface ColumnLayout {
  /** Columns padded on the left (numbers). */
  rightAligned?: readonly number[];
  /** Longest cell a column is sized for, by column; longer cells overflow rather than widen it. */
  widest?: Readonly<Record<number, number>>;
}

/** A header, a rule and the rows, in columns two spaces apart, for a terminal. */
export function alignColumns(header: readonly string[], rows: readonly (readonly string[])[], layout: ColumnLayout = {}): string {
  const right = new Set(layout.rightAligned ?? []);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => Math.min((r[i] ?? '').length, layout.widest?.[i] ?? Number.POSITIVE_INFINITY))));
  const line = (cells: readonly string[]) =>
    widths
      .map((width, i) => (right.has(i) ? (cells[i] ?? '').padStart(width) : (cells[i] ?? '').padEnd(width)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

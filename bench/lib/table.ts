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
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (i === 1 ? Math.min(r[i].length, 64) : r[i].length))));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 2 ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const row of rows) out.push(line(row));
  return out.join('\n');
}

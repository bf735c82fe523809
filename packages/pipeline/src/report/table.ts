// A plain-text table of runs for the terminal (the same columns as the report's table).
import { METRIC_COLUMNS, type RunSummary } from './report.js';

const fmt = (v: number | null | undefined) => {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : String(Number(v.toPrecision(4)));
};

export function formatTable(runs: readonly RunSummary[]): string {
  const header = ['method', 'steps', 'time (s)', ...METRIC_COLUMNS.map((c) => c.label)];
  const rows = runs.map((r) => [
    r.method,
    r.steps === undefined ? '—' : String(r.steps),
    r.seconds === undefined ? '—' : r.seconds.toFixed(1),
    ...METRIC_COLUMNS.map((c) => fmt(r.metrics[c.key])),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

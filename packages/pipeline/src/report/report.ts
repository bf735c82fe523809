// The run report: a Markdown summary and a self-contained HTML page (inline SVG, inline CSS, no scripts, no CDN)
// with loss curves, a forget-quality vs model-utility scatter per method, and a per-method table.
import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import { writeFileAtomic } from '@unlearn/tensors';
import { escapeXml, lineChart, scatterPlot, type Series } from './svg.js';

export interface LossPoint {
  step: number;
  loss: number;
  parts?: Record<string, number>;
}

/** One run as the report sees it (built from a run folder's eval.json + log.jsonl, or by a benchmark). */
export interface RunSummary {
  name: string;
  /** What the scatter groups by, e.g. `npo + sophia-gnb`. */
  method: string;
  objective?: string;
  optimizer?: string;
  mask?: string;
  lr?: number;
  seed?: number;
  steps?: number;
  seconds?: number;
  /** Keys of METRIC_COLUMNS (and any others, shown in the JSON only). null = not computed. */
  metrics: Record<string, number | null | undefined>;
  losses?: LossPoint[];
  /** Examples per step, and optimizer steps per pass over the forget (or train) set. */
  batchSize?: number;
  stepsPerEpoch?: number;
  epochs?: number;
  /** The objective's β (NPO, SimNPO, DPO) when it has one. */
  beta?: number;
  /** Set when training stopped early (a non-finite loss or update); no final checkpoint was written. */
  stopped?: { reason: string; step: number; lastCheckpoint?: string };
  /** Set when the run failed (summary.json of a failed run). */
  error?: string;
  /** Set when the run was stopped by a signal. */
  interrupted?: string;
  /** The optimizer's per-step stats over the run (e.g. Sophia's winRate: first, median, min, max, last). */
  optimizerStats?: Record<string, { first: number; median: number; min: number; max: number; last: number }>;
}

export interface ReportInput {
  title: string;
  runs: RunSummary[];
  /** Reference rows (e.g. the target model before unlearning, the retain-only model): in the table, not the plots' groups. */
  baselines?: RunSummary[];
  notes?: string[];
  createdAt?: string;
}

export const METRIC_COLUMNS: { key: string; label: string; better: 'higher' | 'lower' | 'closer to 0' }[] = [
  { key: 'forgetQuality', label: 'forget quality', better: 'higher' },
  { key: 'modelUtility', label: 'model utility', better: 'higher' },
  { key: 'forgetRougeL', label: 'forget ROUGE-L', better: 'lower' },
  { key: 'privleak', label: 'privleak', better: 'closer to 0' },
];

function fmtNum(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return Number(v.toPrecision(3)).toExponential();
  return Number(v.toPrecision(4)).toString();
}

interface Row {
  cells: string[];
}

function tableRows(input: ReportInput): { header: string[]; rows: Row[] } {
  const header = ['run', 'method', 'lr', 'steps', 'time (s)', ...METRIC_COLUMNS.map((c) => c.label)];
  const row = (r: RunSummary): Row => ({
    cells: [
      r.name,
      r.method,
      r.lr === undefined ? '—' : fmtNum(r.lr),
      r.steps === undefined ? '—' : String(r.steps),
      r.seconds === undefined ? '—' : r.seconds.toFixed(1),
      ...METRIC_COLUMNS.map((c) => fmtNum(r.metrics[c.key])),
    ],
  });
  return { header, rows: [...(input.baselines ?? []), ...input.runs].map(row) };
}

/** Loss curves, one chart per objective (so a chart never holds a dozen lines). */
export function lossCharts(input: ReportInput): { id: string; svg: string }[] {
  const withLoss = input.runs.filter((r) => r.losses && r.losses.length > 0);
  const byObjective = new Map<string, RunSummary[]>();
  for (const r of withLoss) {
    const k = r.objective ?? 'loss';
    byObjective.set(k, [...(byObjective.get(k) ?? []), r]);
  }
  return [...byObjective].map(([objective, runs]) => {
    const series: Series[] = runs.map((r) => ({ name: r.name, points: r.losses!.map((p) => [p.step, p.loss] as [number, number]) }));
    return {
      id: `loss-${objective.replace(/[^\w-]/g, '_')}`,
      svg: lineChart(series, { title: `Training loss — ${objective}`, xLabel: 'step', yLabel: 'loss' }),
    };
  });
}

/** Forget quality (log scale) vs model utility, coloured by method. */
export function tradeoffChart(input: ReportInput): string {
  const points = [...(input.baselines ?? []), ...input.runs]
    .filter((r) => typeof r.metrics.forgetQuality === 'number' && typeof r.metrics.modelUtility === 'number')
    .map((r) => ({ x: r.metrics.forgetQuality as number, y: r.metrics.modelUtility as number, label: r.name, group: r.method }));
  return scatterPlot(points, {
    title: 'Forget quality vs model utility',
    xLabel: 'forget quality (KS-test p-value, log scale) →',
    yLabel: 'model utility →',
    logX: true,
  });
}

export function renderMarkdown(input: ReportInput, images: { loss: string[]; tradeoff?: string } = { loss: [] }): string {
  const { header, rows } = tableRows(input);
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [
    `# ${input.title}`,
    '',
    input.createdAt ? `Created ${input.createdAt}.` : '',
    '',
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${r.cells.map(esc).join(' | ')} |`),
    '',
    METRIC_COLUMNS.map((c) => `${c.label}: ${c.better} is better`).join('; ') + '.',
    '',
  ];
  if (images.tradeoff) lines.push(`![forget quality vs model utility](${images.tradeoff})`, '');
  for (const img of images.loss) lines.push(`![training loss](${img})`, '');
  for (const n of input.notes ?? []) lines.push(`- ${n}`);
  return `${lines.join('\n').replace(/\n{3,}/g, '\n\n').trim()}\n`;
}

const CSS = `
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1160px;color:#222;background:#fafafa}
h1{font-size:22px;margin:0 0 4px}p.meta{color:#666;margin:0 0 16px}
table{border-collapse:collapse;background:#fff;margin:12px 0;font-size:13px}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}th{background:#f0f0f0}
td:nth-child(1),td:nth-child(2),th:nth-child(1),th:nth-child(2){text-align:left}
tr.baseline td{color:#555;font-style:italic}
.charts{display:flex;flex-wrap:wrap;gap:12px}.charts svg{background:#fff;border:1px solid #ddd}
ul.notes{color:#444;font-size:13px}`;

export function renderHtml(input: ReportInput): string {
  const { header, rows } = tableRows(input);
  const nBase = input.baselines?.length ?? 0;
  const table =
    `<table><thead><tr>${header.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr></thead><tbody>` +
    rows.map((r, i) => `<tr${i < nBase ? ' class="baseline"' : ''}>${r.cells.map((c) => `<td>${escapeXml(c)}</td>`).join('')}</tr>`).join('') +
    '</tbody></table>';
  const charts = [tradeoffChart(input), ...lossCharts(input).map((c) => c.svg)].join('\n');
  const notes = input.notes?.length ? `<ul class="notes">${input.notes.map((n) => `<li>${escapeXml(n)}</li>`).join('')}</ul>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(input.title)}</title><style>${CSS}</style></head>
<body><h1>${escapeXml(input.title)}</h1><p class="meta">${escapeXml(input.createdAt ?? '')} · ${input.runs.length} run(s) · ${METRIC_COLUMNS.map((c) => `${c.label}: ${c.better} is better`).join(' · ')}</p>
${table}
<div class="charts">
${charts}
</div>
${notes}
</body></html>
`;
}

/** Writes report.md, report.html and the SVGs the Markdown links into `dir`; returns the paths written. */
export async function writeReport(dir: string, input: ReportInput): Promise<{ markdown: string; html: string; files: string[] }> {
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  const put = async (name: string, text: string) => {
    const file = path.join(dir, name);
    await writeFileAtomic(file, text);
    files.push(file);
    return name;
  };
  const tradeoff = await put('tradeoff.svg', tradeoffChart(input));
  const loss: string[] = [];
  for (const c of lossCharts(input)) loss.push(await put(`${c.id}.svg`, c.svg));
  const markdown = await put('report.md', renderMarkdown(input, { loss, tradeoff }));
  const html = await put('report.html', renderHtml(input));
  return { markdown: path.join(dir, markdown), html: path.join(dir, html), files };
}

// The run report: a Markdown summary and a self-contained HTML page (inline SVG, inline CSS, no scripts, no CDN)
// with loss curves, a forget-quality vs model-utility scatter per method, and a per-method table.
import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import { writeFileAtomic } from '@unlearn/tensors';
import { escapeXml, lineChart, scatterPlot, type Series } from './svg.js';
import { UTILITY_COMPONENTS, type SampleAnswer, type UtilityComponents } from './eval-details.js';

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
  /** What an unlearn run forgot: its forget split (and author subset), e.g. `forget01 (2 authors, 40 QA pairs)`. */
  forgotten?: string;
  /** Set when the run was stopped by a signal. */
  interrupted?: string;
  /** The nine parts of model utility (retain / real authors / world facts × probability / ROUGE-L / truth ratio). */
  utility?: UtilityComponents;
  /** The first forget questions with this model's greedy answer (before/after unlearning, side by side). */
  samples?: SampleAnswer[];
  /** What the run is to the report: the model before unlearning, or the retain-only model (the goal). */
  role?: 'target' | 'retain-only';
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
  /** Who or what was forgotten (e.g. the author's name), shown under the title. */
  forgotten?: string;
}

export const METRIC_COLUMNS: { key: string; label: string; better: 'higher' | 'lower' | 'closer to 0' | 'closer to the retain-only model' }[] = [
  { key: 'forgetQuality', label: 'forget quality', better: 'higher' },
  { key: 'modelUtility', label: 'model utility', better: 'higher' },
  // a model that never saw the forget set still answers some of it (common words, guessable facts): matching the
  // retain-only model's ROUGE is the goal, 0 is over-forgetting
  { key: 'forgetRougeL', label: 'forget ROUGE-L', better: 'closer to the retain-only model' },
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
  const header = ['run', 'method', 'lr', 'batch', 'β', 'seed', 'steps', 'steps/epoch', 'time (s)', ...METRIC_COLUMNS.map((c) => c.label)];
  const opt = (v: number | undefined) => (v === undefined ? '—' : fmtNum(v));
  const row = (r: RunSummary): Row => ({
    cells: [
      r.name,
      r.method,
      opt(r.lr),
      opt(r.batchSize),
      opt(r.beta),
      opt(r.seed),
      r.steps === undefined ? '—' : `${r.steps}${r.stopped ? ' (stopped)' : ''}`,
      opt(r.stepsPerEpoch),
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

/** The retain-only model among the baselines: role 'retain-only', else a method or name saying so. */
export function retainOnlyOf(input: ReportInput): RunSummary | undefined {
  const b = input.baselines ?? [];
  return b.find((r) => r.role === 'retain-only') ?? b.find((r) => /retain[- ]only/i.test(`${r.method} ${r.name}`));
}

/** The model before unlearning among the baselines (role 'target', else a method or name saying so). */
export function targetOf(input: ReportInput): RunSummary | undefined {
  const b = input.baselines ?? [];
  return b.find((r) => r.role === 'target') ?? b.find((r) => /target|before unlearning/i.test(`${r.method} ${r.name}`));
}

/**
 * Forget quality (log scale) vs model utility, coloured by method. The retain-only model is the goal: it sits at forget
 * quality 1 (its truth ratios against themselves) with its own utility, drawn as a diamond, and a dashed line marks
 * its utility across the plot.
 */
export function tradeoffChart(input: ReportInput): string {
  const goal = retainOnlyOf(input);
  const points = [...(input.baselines ?? []), ...input.runs]
    .filter((r) => r !== goal && typeof r.metrics.forgetQuality === 'number' && typeof r.metrics.modelUtility === 'number')
    .map((r) => ({ x: r.metrics.forgetQuality as number, y: r.metrics.modelUtility as number, label: r.name, group: r.method }));
  const goalUtility = goal?.metrics.modelUtility;
  if (goal && typeof goalUtility === 'number') {
    points.unshift({ x: 1, y: goalUtility, label: `${goal.name} (the goal: forget quality 1 by definition)`, group: 'retain-only (the goal)', reference: true } as (typeof points)[number]);
  }
  return scatterPlot(points, {
    title: 'Forget quality vs model utility',
    xLabel: 'forget quality (KS-test p-value, log scale) →',
    yLabel: 'model utility →',
    logX: true,
    lines: typeof goalUtility === 'number' ? [{ y: goalUtility, label: `retain-only utility ${fmtNum(goalUtility)}` }] : [],
  });
}

/** Model utility's nine components per run (a utility of 0 is explained by whichever component is 0). */
function utilityTable(input: ReportInput): { header: string[]; rows: string[][] } | undefined {
  const all = [...(input.baselines ?? []), ...input.runs].filter((r) => r.utility);
  if (all.length === 0) return undefined;
  const header = ['run', ...UTILITY_COMPONENTS.flatMap((c) => [`${c.label} prob`, `${c.label} ROUGE-L`, `${c.label} truth ratio`]), 'model utility'];
  const rows = all.map((r) => [
    r.name,
    ...UTILITY_COMPONENTS.flatMap((c) => {
      const u = r.utility![c.split];
      return [fmtNum(u?.prob), fmtNum(u?.rouge), fmtNum(u?.truthRatio)];
    }),
    fmtNum(r.metrics.modelUtility),
  ]);
  return { header, rows };
}

/** Answers to the first forget questions: ground truth, the model before unlearning, each unlearned model. */
function sampleTable(input: ReportInput): { header: string[]; rows: string[][] } | undefined {
  const before = targetOf(input);
  const goal = retainOnlyOf(input);
  const cols = [before, goal, ...input.runs].filter((r): r is RunSummary => !!r?.samples?.length);
  const questions = cols[0]?.samples;
  if (!questions) return undefined;
  const header = ['question', 'ground truth', ...cols.map((r) => (r === before ? `${r.name} (before)` : r === goal ? `${r.name} (never saw it)` : r.name))];
  const rows = questions.map((q) => [q.question, q.truth, ...cols.map((r) => r.samples!.find((s) => s.question === q.question)?.generation ?? '—')]);
  return { header, rows };
}

function runCounts(input: ReportInput): string {
  const n = input.runs.length;
  const b = input.baselines?.length ?? 0;
  return `${n} run${n === 1 ? '' : 's'}${b ? ` + ${b} reference model${b === 1 ? '' : 's'}` : ''}`;
}

export function renderMarkdown(input: ReportInput, images: { loss: string[]; tradeoff?: string } = { loss: [] }): string {
  const { header, rows } = tableRows(input);
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [
    `# ${input.title}`,
    '',
    `${input.createdAt ? `Created ${input.createdAt} · ` : ''}${runCounts(input)}${input.forgotten ? ` · forgetting ${input.forgotten}` : ''}.`,
    '',
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${r.cells.map(esc).join(' | ')} |`),
    '',
    METRIC_COLUMNS.map((c) => `${c.label}: ${c.better} is better`).join('; ') + '.',
    '',
  ];
  const md = (t: { header: string[]; rows: string[][] } | undefined, title: string) => {
    if (!t) return;
    lines.push(`## ${title}`, '', `| ${t.header.map(esc).join(' | ')} |`, `|${t.header.map(() => '---').join('|')}|`, ...t.rows.map((r) => `| ${r.map((c) => esc(c.replace(/\n/g, ' '))).join(' | ')} |`), '');
  };
  md(utilityTable(input), 'Model utility components');
  md(sampleTable(input), 'Forget questions: answers before and after');
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
ul.notes{color:#444;font-size:13px}h2{font-size:16px;margin:18px 0 4px}
#sample-answers td{text-align:left;max-width:260px;vertical-align:top}`;

export function renderHtml(input: ReportInput): string {
  const { header, rows } = tableRows(input);
  const nBase = input.baselines?.length ?? 0;
  const table =
    `<table><thead><tr>${header.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr></thead><tbody>` +
    rows.map((r, i) => `<tr${i < nBase ? ' class="baseline"' : ''}>${r.cells.map((c) => `<td>${escapeXml(c)}</td>`).join('')}</tr>`).join('') +
    '</tbody></table>';
  const charts = [tradeoffChart(input), ...lossCharts(input).map((c) => c.svg)].join('\n');
  const htmlTable = (t: { header: string[]; rows: string[][] } | undefined, id: string, title: string) =>
    t ? `<h2>${escapeXml(title)}</h2><table id="${id}"><thead><tr>${t.header.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr></thead><tbody>` +
      t.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeXml(c)}</td>`).join('')}</tr>`).join('') + '</tbody></table>' : '';
  const details = htmlTable(utilityTable(input), 'utility-components', 'Model utility components') +
    htmlTable(sampleTable(input), 'sample-answers', 'Forget questions: answers before and after');
  const notes = input.notes?.length ? `<ul class="notes">${input.notes.map((n) => `<li>${escapeXml(n)}</li>`).join('')}</ul>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(input.title)}</title><style>${CSS}</style></head>
<body><h1>${escapeXml(input.title)}</h1><p class="meta">${escapeXml([input.createdAt, runCounts(input), input.forgotten ? `forgetting ${input.forgotten}` : ''].filter(Boolean).join(' · '))} · ${METRIC_COLUMNS.map((c) => `${escapeXml(c.label)}: ${escapeXml(c.better)} is better`).join(' · ')}</p>
${table}
<div class="charts">
${charts}
</div>
${details}
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

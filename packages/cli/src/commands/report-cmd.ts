// `unlearn report <run folders…>`: one Markdown + HTML report comparing runs (each folder's summary.json).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { sampleAnswers, utilityComponents, writeReport, type ReportInput, type RunSummary } from '@unlearn/pipeline';
import { screenshotHtml } from '../report/screenshot.js';

export async function readSummary(dir: string): Promise<RunSummary> {
  const file = path.join(dir, 'summary.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}) — is ${dir} a finished run folder?`);
  }
  let parsed: RunSummary;
  try {
    parsed = JSON.parse(text) as RunSummary;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof parsed?.name !== 'string' || typeof parsed.metrics !== 'object') throw new Error(`${file}: not a run summary (needs "name" and "metrics")`);
  // an older summary (or an eval run's) has no utility components or sample answers: its eval.json has them
  if (!parsed.utility || !parsed.samples) {
    const evalJson = await readFile(path.join(dir, 'eval.json'), 'utf8').then((t) => JSON.parse(t) as Record<string, unknown>, () => undefined);
    parsed.utility ??= utilityComponents(evalJson);
    parsed.samples ??= sampleAnswers(evalJson);
  }
  return parsed;
}

/** A reference row's label: an eval run's method names its model folder (often a cwd-relative path); name the run instead. */
function baselineLabel(r: RunSummary): RunSummary {
  const m = /^eval (.+)$/.exec(r.method);
  if (!m || !/[\\/]/.test(m[1])) return r;
  const parts = path.resolve(m[1]).split(path.sep);
  const model = parts[parts.length - 1] === 'checkpoint' ? parts[parts.length - 2] : parts[parts.length - 1];
  return { ...r, method: `eval of ${model}` };
}

export interface ReportCommandOptions {
  out: string;
  title?: string;
  baselines?: string[];
  screenshot?: boolean;
}

export async function reportCommand(runDirs: string[], o: ReportCommandOptions): Promise<{ markdown: string; html: string; png?: string }> {
  const runs = await Promise.all(runDirs.map(readSummary));
  const baselines = (await Promise.all((o.baselines ?? []).map(readSummary))).map(baselineLabel);
  // what was forgotten, when every unlearn run says so (one split for all, or each run's own)
  const forgotten = [...new Set(runs.map((r) => r.forgotten).filter((f): f is string => typeof f === 'string'))];
  const input: ReportInput = {
    title: o.title ?? 'Unlearning report', runs, baselines, createdAt: new Date().toISOString(),
    ...(forgotten.length ? { forgotten: forgotten.join('; ') } : {}),
  };
  const written = await writeReport(o.out, input);
  if (!o.screenshot) return written;
  const png = await screenshotHtml(written.html, path.join(o.out, 'report.png'));
  return { ...written, png };
}

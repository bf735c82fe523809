// The retain-only model's evaluation (open-unlearning `retain_logs_path`): this package's eval.json or open-unlearning's
// TOFU_EVAL.json as written — Python's json module writes NaN / Infinity, which JSON.parse rejects, so those bare
// tokens are read as null (a null truth ratio is then skipped, as open-unlearning filters None values).
import { readFile } from 'node:fs/promises';

/** JSON.parse that accepts Python's bare NaN, Infinity and -Infinity (as null). */
export function parsePythonJson(text: string): unknown {
  return JSON.parse(text.replace(/"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g, (m) => (m.startsWith('"') ? m : 'null')));
}

/** Reads retain logs; throws one line naming the file when it is unreadable or lacks forget_truth_ratio.value_by_index. */
export async function readRetainLogs(file: string): Promise<Record<string, unknown>> {
  let raw: unknown;
  try {
    raw = parsePythonJson(await readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: cannot read retain-model logs (${(e as Error).message.split('\n')[0]})`);
  }
  const tr = (raw as { forget_truth_ratio?: { value_by_index?: unknown } } | null)?.forget_truth_ratio?.value_by_index;
  if (typeof raw !== 'object' || raw === null || typeof tr !== 'object' || tr === null) {
    throw new Error(`${file}: not a TOFU evaluation with forget_truth_ratio.value_by_index`);
  }
  return raw as Record<string, unknown>;
}

/** The retain model's per-item forget truth ratios (nulls dropped), or null when there are no logs. */
export function retainTruthRatios(logs: Record<string, unknown> | null): number[] | null {
  const byIdx = (logs?.forget_truth_ratio as { value_by_index?: Record<string, { score?: unknown }> } | undefined)?.value_by_index;
  if (!byIdx) return null;
  return Object.values(byIdx).map((v) => v?.score).filter((s): s is number => typeof s === 'number' && Number.isFinite(s));
}

/** `logs[name].agg_value` when it is a number. */
export function retainAgg(logs: Record<string, unknown> | null, name: string): number | undefined {
  const v = (logs?.[name] as { agg_value?: unknown } | undefined)?.agg_value;
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

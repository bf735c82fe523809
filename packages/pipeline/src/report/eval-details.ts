// What a report shows beyond the headline numbers, read (defensively: any field may be missing in an older or a
// foreign eval.json) from the TOFU suite's output: the nine parts of model utility, and sample answers to forget
// questions (the forgotten knowledge, before and after).

/** Model utility = harmonic mean of these nine (TOFU; open-unlearning's `model_utility`). */
export const UTILITY_COMPONENTS = [
  { split: 'retain', label: 'retain', keys: { prob: 'retain_Q_A_Prob', rouge: 'retain_Q_A_ROUGE', truthRatio: 'retain_Truth_Ratio' } },
  { split: 'ra', label: 'real authors', keys: { prob: 'ra_Q_A_Prob_normalised', rouge: 'ra_Q_A_ROUGE', truthRatio: 'ra_Truth_Ratio' } },
  { split: 'wf', label: 'world facts', keys: { prob: 'wf_Q_A_Prob_normalised', rouge: 'wf_Q_A_ROUGE', truthRatio: 'wf_Truth_Ratio' } },
] as const;

export type UtilityComponents = Record<'retain' | 'ra' | 'wf', { prob: number | null; rouge: number | null; truthRatio: number | null }>;

/** A forget question with the ground truth and the model's greedy answer. */
export interface SampleAnswer {
  question: string;
  truth: string;
  generation: string;
}

const aggOf = (raw: Record<string, unknown>, key: string): number | null => {
  const v = raw[key] as { agg_value?: unknown } | undefined;
  return typeof v?.agg_value === 'number' && Number.isFinite(v.agg_value) ? v.agg_value : null;
};

/** The nine utility components of an eval.json object; null when it has none of them. */
export function utilityComponents(raw: Record<string, unknown> | undefined): UtilityComponents | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const out = {} as UtilityComponents;
  let any = false;
  for (const c of UTILITY_COMPONENTS) {
    out[c.split] = { prob: aggOf(raw, c.keys.prob), rouge: aggOf(raw, c.keys.rouge), truthRatio: aggOf(raw, c.keys.truthRatio) };
    any ||= Object.values(out[c.split]).some((v) => v !== null);
  }
  return any ? out : undefined;
}

/** The first `n` forget questions with their greedy answers (forget_Q_A_ROUGE's per-item records). */
export function sampleAnswers(raw: Record<string, unknown> | undefined, n = 2): SampleAnswer[] | undefined {
  const byIndex = (raw?.forget_Q_A_ROUGE as { value_by_index?: Record<string, Record<string, unknown>> } | undefined)?.value_by_index;
  if (!byIndex || typeof byIndex !== 'object') return undefined;
  const out: SampleAnswer[] = [];
  for (const k of Object.keys(byIndex).sort((a, b) => Number(a) - Number(b)).slice(0, n)) {
    const v = byIndex[k];
    if (typeof v?.input === 'string' && typeof v.ground_truth === 'string' && typeof v.generation === 'string') {
      out.push({ question: v.input, truth: v.ground_truth, generation: v.generation });
    }
  }
  return out.length ? out : undefined;
}

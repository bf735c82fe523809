// Forget probability and ROUGE-L recall of the forget answers under a prompt attack: the attacked rows and prompt
// format go through @unlearn/metrics' own `forget_Q_A_Prob` and `forget_Q_A_ROUGE` (evaluateMetrics with a custom
// formatter), so the numbers are the TOFU suite's, on the attacked prompts. The attack `none` reproduces the suite.
import type { GenerativeLM, Tokenizer } from '@unlearn/core';
import { templateFormatter } from '@unlearn/data';
import { evaluateMetrics, type EvaluateMetricsOptions } from '@unlearn/metrics';
import { applyPromptAttack, type AttackRow, type PromptAttack } from './prompt-attacks.js';

export interface PromptAttackResult {
  attack: string;
  /** Mean answer probability over the rows (forget_Q_A_Prob). */
  prob: number;
  /** Mean ROUGE-L recall of the greedy answers (forget_Q_A_ROUGE). */
  rougeL: number;
  items: { question: string; prob: number; rougeL: number; generation: string }[];
}

/** The evaluation's settings (batch size, lengths, template and boundary, …); the attack supplies the formatter. */
export type PromptAttackEvalOptions = Omit<EvaluateMetricsOptions, 'formatter' | 'outputPath' | 'retainLogs' | 'retainLogsPath'>;

export async function evaluatePromptAttack(
  model: GenerativeLM, tokenizer: Tokenizer, rows: readonly AttackRow[], attack: PromptAttack, options: PromptAttackEvalOptions = {},
): Promise<PromptAttackResult> {
  if (rows.length === 0) throw new Error(`prefix ${attack.name}: no forget rows to attack`);
  const { rows: attacked, formatter } = applyPromptAttack(attack, rows, templateFormatter(tokenizer, options.template));
  const { metrics } = await evaluateMetrics(['forget_Q_A_Prob', 'forget_Q_A_ROUGE'], model, tokenizer, { forget: attacked }, {
    onWarning: () => {}, ...options, formatter,
  });
  const probs = metrics.forget_Q_A_Prob.value_by_index as Record<string, { prob: number }>;
  const rouge = metrics.forget_Q_A_ROUGE.value_by_index as Record<string, { rougeL_recall: number; generation: string }>;
  return {
    attack: attack.name,
    prob: metrics.forget_Q_A_Prob.agg_value as number,
    rougeL: metrics.forget_Q_A_ROUGE.agg_value as number,
    items: attacked.map((r, i) => ({ question: r.question, prob: probs[i].prob, rougeL: rouge[i].rougeL_recall, generation: rouge[i].generation })),
  };
}

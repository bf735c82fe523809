// Forget probability and ROUGE-L recall of the forget answers under a prompt attack, measured as the TOFU suite
// measures them (open-unlearning's `probability` = exp(−mean answer NLL, teacher-forced; `rouge` = ROUGE-L recall of
// the greedy answer against the ground truth), but on the attacked prompts. The attack `none` reproduces the suite's
// forget_Q_A_Prob and forget_Q_A_ROUGE on the same rows, so before and after come from one code path.
import { isLabelled, type GenerativeLM, type Tokenizer } from '@unlearn/core';
import { collate, defaultPadTokenId, encodeQa, plainTemplate, type PromptFormatter } from '@unlearn/data';
import { answerLogProbs, rougeScores } from '@unlearn/metrics';
import { applyPromptAttack, type AttackRow, type PromptAttack } from './prompt-attacks.js';

export interface PromptAttackResult {
  attack: string;
  /** Mean answer probability over the rows. */
  prob: number;
  /** Mean ROUGE-L recall of the greedy answers. */
  rougeL: number;
  items: { question: string; prob: number; rougeL: number; generation: string }[];
}

export interface PromptAttackEvalOptions {
  /** The evaluation's prompt format (default plainTemplate(), the TOFU suite's). */
  formatter?: PromptFormatter;
  maxNewTokens?: number;
  maxLength?: number;
  batchSize?: number;
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN);

export async function evaluatePromptAttack(
  model: GenerativeLM, tokenizer: Tokenizer, rows: readonly AttackRow[], attack: PromptAttack, options: PromptAttackEvalOptions = {},
): Promise<PromptAttackResult> {
  if (rows.length === 0) throw new Error(`prefix ${attack.name}: no forget rows to attack`);
  const { rows: attacked, formatter } = applyPromptAttack(attack, rows, options.formatter ?? plainTemplate());
  const batchSize = options.batchSize ?? 32;
  const padTokenId = defaultPadTokenId(tokenizer);
  const { examples } = await encodeQa(tokenizer, attacked, { formatter, maxLength: options.maxLength, source: `prefix ${attack.name}` });
  const probs = new Array<number>(examples.length);
  const generations = new Array<number[]>(examples.length);
  const prompts = examples.map((e) => e.inputIds.slice(0, e.labels.findIndex(isLabelled)));
  for (let start = 0; start < examples.length; start += batchSize) {
    const ids = examples.slice(start, start + batchSize).map((_, j) => start + j);
    const batch = collate(ids.map((i) => examples[i]), { padTokenId, paddingSide: 'right' });
    try {
      const stats = await answerLogProbs(model, batch);
      ids.forEach((i, j) => (probs[i] = stats[j].prob));
    } finally {
      batch.inputIds.dispose();
      batch.attentionMask.dispose();
      batch.labels.dispose();
    }
    const out = await model.generateTokens(ids.map((i) => prompts[i]), {
      maxNewTokens: options.maxNewTokens ?? 32, doSample: false, padTokenId, defaultEosTokenId: tokenizer.eosTokenId,
    });
    ids.forEach((i, j) => (generations[i] = out[j]));
  }
  const eos = tokenizer.eosTokenId;
  const items = await Promise.all(examples.map(async (e, i) => {
    const gen = generations[i];
    const stop = eos === null ? -1 : gen.indexOf(eos);
    const generation = (await tokenizer.decode(stop >= 0 ? gen.slice(0, stop) : gen, { skipSpecialTokens: true })).trim();
    const truth = (await tokenizer.decode(e.labels.filter(isLabelled), { skipSpecialTokens: true })).trim();
    return { question: attacked[e.row].question, prob: probs[i], rougeL: rougeScores(generation, truth).rougeL.recall, generation };
  }));
  return { attack: attack.name, prob: mean(items.map((x) => x.prob)), rougeL: mean(items.map((x) => x.rougeL)), items };
}

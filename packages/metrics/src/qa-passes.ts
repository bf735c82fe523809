// The passes TOFU-style metrics share, memoized per evaluation (one forward per answer set, one generation per
// question set): forget_Q_A_Prob, extraction_strength, exact_memorization and the MIAs all read the same teacher-forced
// statistics of the forget answers. Rows are sorted by length into batches and results returned in input order.
import { isLabelled } from '@unlearn/core';
import { collate, defaultPadTokenId, encodeQa, type EncodedExample, type QaRow } from '@unlearn/data';
import { answerLogProbs, type AnswerStats } from './answer-log-probs.js';
import type { EvalContext } from './define-metric.js';

export function memo<T>(ctx: EvalContext, key: string, f: () => Promise<T>): Promise<T> {
  let p = ctx.memo.get(key) as Promise<T> | undefined;
  if (!p) {
    p = f();
    ctx.memo.set(key, p);
  }
  return p;
}

/** `data[split]` rows' (question, field) pairs; a list field (perturbed_answer) gives one pair per entry. */
function pairs(ctx: EvalContext, split: string, field: string): { rows: QaRow[]; groups: number[] } {
  const data = ctx.data[split];
  if (!Array.isArray(data) || data.length === 0) throw new Error(`eval: data.${split} has no rows`);
  const rows: QaRow[] = [];
  const groups: number[] = [];
  data.forEach((r: Record<string, unknown>, i) => {
    const v = r[field];
    const answers = Array.isArray(v) ? v : [v];
    for (const a of answers) {
      if (typeof r.question !== 'string' || typeof a !== 'string') throw new Error(`eval: data.${split}[${i}] has no string question/${field}`);
      rows.push({ question: r.question, answer: a });
    }
    groups.push(answers.length);
  });
  return { rows, groups };
}

/** The split's (question, field) pairs encoded with the evaluation's template and boundary rule; warns on truncation. */
export function encoded(ctx: EvalContext, split: string, field: string): Promise<{ examples: EncodedExample[]; groups: number[]; rows: QaRow[] }> {
  return memo(ctx, `encode:${split}:${field}`, async () => {
    const { rows, groups } = pairs(ctx, split, field);
    const { examples, report } = await encodeQa(ctx.tokenizer, rows, {
      formatter: ctx.formatter, maxLength: ctx.settings.maxLength, source: `${split} ${field}`, boundary: ctx.settings.boundary,
    });
    // open-unlearning's attention mask is input_ids != pad with pad = EOS (tokenizers without a pad token), which also
    // hides EOS tokens inside a sequence (Llama-3 chat's <|eot_id|>; its issue #128): not reproduced, so say so
    const eos = ctx.tokenizer.eosTokenId;
    if (ctx.settings.boundary === 'open-unlearning' && ctx.tokenizer.padTokenId === null && eos !== null) {
      const inner = examples.filter((e) => e.inputIds.slice(0, -1).includes(eos)).length;
      if (inner) ctx.warn(`eval: ${split} ${field}: ${inner} of ${rows.length} rows hold EOS inside the sequence; open-unlearning masks those positions (pad = EOS), this evaluation does not`);
    }
    if (report.truncatedRows.length) {
      ctx.warn(`eval: ${split} ${field}: ${report.truncatedRows.length} of ${rows.length} rows cut to maxLength ${ctx.settings.maxLength} (${report.tokensCut} tokens)`);
    }
    return { examples, groups, rows };
  });
}

const regroup = <T>(flat: T[], groups: number[]): T[][] => {
  let at = 0;
  return groups.map((n) => flat.slice(at, (at += n)));
};

async function teacherForced(ctx: EvalContext, split: string, field: string, vocabStats: boolean): Promise<AnswerStats[]> {
  return exampleStats(ctx, `${split} ${field}`, (await encoded(ctx, split, field)).examples, vocabStats);
}

/** Teacher-forced statistics of any encoded examples (not memoized), batched by length, in input order. */
export async function exampleStats(ctx: EvalContext, label: string, examples: readonly EncodedExample[], vocabStats = false): Promise<AnswerStats[]> {
  const padTokenId = defaultPadTokenId(ctx.tokenizer);
  const order = examples.map((_, i) => i).sort((a, b) => examples[a].inputIds.length - examples[b].inputIds.length);
  const stats = new Array<AnswerStats>(examples.length);
  const { batchSize } = ctx.settings;
  for (let start = 0; start < order.length; start += batchSize) {
    const ids = order.slice(start, start + batchSize);
    const batch = collate(ids.map((i) => examples[i]), { padTokenId, paddingSide: 'right' });
    try {
      const out = await answerLogProbs(ctx.model, batch, { vocabStats });
      ids.forEach((i, j) => (stats[i] = out[j]));
    } finally {
      batch.inputIds.dispose();
      batch.attentionMask.dispose();
      batch.labels.dispose();
    }
    ctx.progress(`${label}: ${Math.min(start + batchSize, order.length)}/${order.length} teacher-forced`);
  }
  return stats;
}

/** Teacher-forced statistics of a single-answer field (with Min-K%++'s vocabulary moments). */
export function answerStats(ctx: EvalContext, split: string, field = 'answer'): Promise<AnswerStats[]> {
  return memo(ctx, `tf:${split}:${field}`, () => ctx.timed(`${split}_teacher_forced`, () => teacherForced(ctx, split, field, true)));
}

/** Teacher-forced statistics of a list field (perturbed_answer), grouped per row. */
export function optionStats(ctx: EvalContext, split: string, field = 'perturbed_answer'): Promise<AnswerStats[][]> {
  return memo(ctx, `tf:${split}:${field}`, async () => {
    const stats = await ctx.timed(`${split}_teacher_forced`, () => teacherForced(ctx, split, field, false));
    return regroup(stats, (await encoded(ctx, split, field)).groups);
  });
}

/**
 * Greedy continuations of `prompts` (token ids), batched by length: each cut at EOS, decoded without special tokens,
 * cut at each stop string in order (open-unlearning's `stopwords`) and trimmed; with each prompt's decoded text.
 */
export async function greedyTexts(
  ctx: EvalContext, label: string, prompts: readonly number[][], maxNewTokens: number, stopwords: readonly string[] = [],
): Promise<{ input: string; generation: string }[]> {
  const { tokenizer, model } = ctx;
  const eos = tokenizer.eosTokenId;
  const padTokenId = defaultPadTokenId(tokenizer);
  const order = prompts.map((_, i) => i).sort((a, b) => prompts[a].length - prompts[b].length);
  const generated = new Array<number[]>(prompts.length);
  const { generationBatchSize } = ctx.settings;
  for (let start = 0; start < order.length; start += generationBatchSize) {
    const ids = order.slice(start, start + generationBatchSize);
    const out = await model.generateTokens(ids.map((i) => prompts[i]), { maxNewTokens, doSample: false, padTokenId, defaultEosTokenId: eos });
    ids.forEach((i, j) => (generated[i] = out[j]));
    ctx.progress(`${label}: ${Math.min(start + generationBatchSize, order.length)}/${order.length} generated`);
  }
  return Promise.all(prompts.map(async (prompt, i) => {
    const t = generated[i];
    const stop = eos === null ? -1 : t.indexOf(eos);
    let generation = await tokenizer.decode(stop >= 0 ? t.slice(0, stop) : t, { skipSpecialTokens: true });
    for (const w of stopwords) if (w && generation.includes(w)) generation = generation.split(w)[0];
    return { input: await tokenizer.decode(prompt, { skipSpecialTokens: true }), generation: generation.trim() };
  }));
}

/** Greedy continuation text of each row's prompt (cut at EOS, special tokens skipped, trimmed), plus the prompt text. */
export function generations(ctx: EvalContext, split: string): Promise<{ input: string; generation: string }[]> {
  return memo(ctx, `gen:${split}`, () => ctx.timed(`${split}_generation`, async () => {
    const { examples } = await encoded(ctx, split, 'answer');
    const prompts = examples.map((e) => e.prompt ?? e.inputIds.slice(0, e.labels.findIndex(isLabelled)));
    return greedyTexts(ctx, split, prompts, ctx.settings.maxNewTokens);
  }));
}

/** open-unlearning's ROUGE reference: decode(scored tokens) with decode(prompt) removed, stripped. */
export async function referenceText(ctx: EvalContext, prompt: readonly number[], scored: readonly number[]): Promise<string> {
  const input = await ctx.tokenizer.decode(prompt, { skipSpecialTokens: true });
  return (await ctx.tokenizer.decode(scored, { skipSpecialTokens: true })).split(input).join('').trim();
}

/**
 * The ROUGE reference of each (row, answer) pair. Project boundary: the raw answer string (never the truncated labels).
 * open-unlearning boundary: `eval_text_similarity`'s — decode(full sequence) with decode(prompt) removed, stripped.
 */
export function groundTruths(ctx: EvalContext, split: string, field: string): Promise<string[][]> {
  return memo(ctx, `gt:${split}:${field}`, async () => {
    const { examples, groups, rows } = await encoded(ctx, split, field);
    if (ctx.settings.boundary !== 'open-unlearning') return regroup(rows.map((r) => r.answer), groups);
    const flat = await Promise.all(examples.map((e) => referenceText(ctx, e.prompt!, e.inputIds)));
    return regroup(flat, groups);
  });
}

/** The scored answer text (labels decoded, special tokens skipped): open-unlearning's `extract_target_texts_from_processed_data`. */
export function labelTexts(ctx: EvalContext, split: string, field = 'answer'): Promise<string[]> {
  return memo(ctx, `labels:${split}:${field}`, async () => {
    const { examples } = await encoded(ctx, split, field);
    return Promise.all(examples.map((e) => ctx.tokenizer.decode(e.labels.filter(isLabelled), { skipSpecialTokens: true })));
  });
}

// The end every training run shares (finetune and unlearn): a diverged run keeps its last good checkpoints and writes
// no model; otherwise the trained model goes to checkpoint/ and, with eval.enabled, the suite fills the summary.
import type { Tokenizer } from '@unlearn/core';
import type { SavableTokenizer, TransformerLM } from '@unlearn/models';
import { evaluateModel } from '../evaluate.js';
import { saveRunModel } from '../lora-run.js';
import { sampleAnswers, utilityComponents } from '../report/eval-details.js';
import type { RunSummary } from '../report/report.js';
import type { RunContext } from './run.js';

export async function saveAndEvaluate(ctx: RunContext, model: TransformerLM, tokenizer: Tokenizer & SavableTokenizer, summary: RunSummary): Promise<RunSummary> {
  if (summary.stopped) return summary; // no checkpoint of a diverged model, nothing to evaluate
  await saveRunModel(model, ctx.folder.checkpoint, { tokenizer, baseModel: ctx.config.model.path });
  ctx.log.event('checkpoint', { dir: ctx.folder.checkpoint });
  if (ctx.config.eval.enabled) {
    const evaluated = await evaluateModel(ctx, model, tokenizer);
    Object.assign(summary, { metrics: evaluated.metrics, utility: utilityComponents(evaluated.raw), samples: sampleAnswers(evaluated.raw) });
  }
  return summary;
}

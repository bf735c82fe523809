// LoRA in a run: `lora` in the run config wraps the loaded model with adapters (fresh, or a PEFT folder via
// lora.adapter) so the Trainer updates only the adapters and the reference model is the base with them switched off.
// Saving a LoRA run writes the merged model (W + (α/r)·B·A, a plain HF folder: what unlearn/eval load as model.path)
// to checkpoint/ and the adapter in PEFT format to adapter/ next to it.
import path from 'node:path';
import { applyLora, loadLora, loraOf, mergeLora, saveLora, saveModel, type SavableTokenizer, type TransformerLM } from '@unlearn/models';
import type { RunConfig } from './config/schema.js';

/** The run's model: `base` itself without a lora section, else an adapted view that owns `base` (disposing it frees both). */
export async function withRunAdapters(base: TransformerLM, config: RunConfig): Promise<TransformerLM> {
  const l = config.lora;
  if (!l) return base;
  let model: TransformerLM;
  try {
    model = l.adapter
      ? await loadLora(base, l.adapter)
      : applyLora(base, { r: l.r, alpha: l.alpha, dropout: l.dropout, targets: l.targetRegex ?? l.targets, rslora: l.rslora, seed: config.training.seed });
  } catch (e) {
    base.dispose();
    throw e;
  }
  model.gradientCheckpointing = l.gradientCheckpointing;
  model.disposeBase = true;
  loraOf(model)!.training = true; // dropout while training; saveRunModel switches it off before evaluation
  return model;
}

/** Where a LoRA run's adapter goes: `adapter/` beside the run's checkpoint folder. */
export const adapterDir = (checkpointDir: string) => path.join(path.dirname(checkpointDir), 'adapter');

/**
 * Saves the run's model to `dir` as a Hugging Face folder; for a LoRA model, the merged weights there and the PEFT adapter
 * in adapterDir(dir). Returns the adapter folder when one was written.
 */
export async function saveRunModel(model: TransformerLM, dir: string, options: { tokenizer?: SavableTokenizer; baseModel?: string } = {}): Promise<string | undefined> {
  const lora = loraOf(model);
  if (!lora) {
    await saveModel(model, dir, options);
    return undefined;
  }
  lora.training = false;
  const adapter = adapterDir(dir);
  await saveLora(model, adapter, { baseModel: options.baseModel });
  const merged = mergeLora(model);
  try {
    await saveModel(merged, dir, options);
  } finally {
    merged.dispose();
  }
  return adapter;
}

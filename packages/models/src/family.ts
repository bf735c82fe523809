// The contract each architecture file (llama.ts, gpt2.ts) fulfils so that loading, saving and random init are
// generic: a config schema, the parameter names and shapes it implies, how each is initialised, and a constructor.
import type { ModelConfig, ParamMap } from '@unlearn/core';
import type { ZodError } from 'zod';
import type { TransformerLM } from './transformer.js';

/** How `createModel` fills a parameter (HF `_init_weights`). */
export type ParamInit = { normal: number } | 'ones' | 'zeros';

export interface ModelFamily {
  /** `model_type` values this family loads. */
  readonly modelTypes: readonly string[];
  /** Validates a config.json (defaults filled in HF's way). Throws a one-line error naming `file`. */
  parseConfig(raw: unknown, file: string): ModelConfig;
  /** Every parameter the model needs, by HF state-dict key, with its shape. */
  parameterShapes(config: ModelConfig): Map<string, number[]>;
  init(name: string, config: ModelConfig): ParamInit;
  /**
   * Our key for a tensor as stored in a checkpoint, or null for tensors to skip (buffers such as GPT-2's `attn.bias`,
   * a tied `lm_head.weight`). Lets GPT2Model-style files without the `transformer.` prefix load.
   */
  canonicalName(stored: string, config: ModelConfig): string | null;
  build(config: ModelConfig, params: ParamMap): TransformerLM;
  /** The config.json to write: our normalised keys minus aliases HF would not expect. */
  serializeConfig(config: ModelConfig): Record<string, unknown>;
}

/** One line out of a zod error: `config.json: num_attention_heads: Expected number, received string`. */
export function configError(file: string, error: ZodError): Error {
  const issue = error.issues[0];
  const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
  return new Error(`${file}: ${where}${issue.message}`);
}

// Autoregressive generation: greedy or sampled (temperature → top-k → top-p, HF's order), batched with left padding,
// stopping at EOS. With the KV cache (default) the prompt runs once and each new token costs one single-token step.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor2D } from '@tensorflow/tfjs-core';
import type { GenerationOptions, Tokenizer } from '@unlearn/core';
import { mulberry32 } from '@unlearn/random';
import { disposeCache, type KVCache, type TransformerLM } from './transformer.js';

/** Core's GenerationOptions (maxNewTokens, doSample, temperature → top-k → top-p, seed, eosTokenId, padTokenId), plus: */
export interface GenerateOptions extends GenerationOptions {
  /** Reuse keys/values of earlier tokens (default true). false re-runs the whole sequence every step. */
  useCache?: boolean;
}

export interface GenerateResult {
  /** Decoded new text per prompt (special tokens skipped). */
  texts: string[];
  /** New token ids per prompt; ends with the EOS id when generation stopped there. */
  tokens: number[][];
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

/** One draw from softmax(row / temperature) restricted to the top-k, then to the top-p nucleus. */
export function sampleToken(row: Float32Array, o: { temperature?: number; topK?: number; topP?: number }, random: () => number): number {
  const temperature = o.temperature ?? 1;
  if (!(temperature > 0)) throw new Error(`generate: temperature must be > 0 when sampling, got ${temperature}`);
  const order = Array.from(row.keys()).sort((a, b) => row[b] - row[a]);
  const k = o.topK && o.topK > 0 ? Math.min(o.topK, order.length) : order.length;
  const kept = order.slice(0, k);
  const max = row[kept[0]] / temperature;
  let probs = kept.map((i) => Math.exp(row[i] / temperature - max));
  let sum = probs.reduce((s, p) => s + p, 0);
  probs = probs.map((p) => p / sum);
  const topP = o.topP ?? 1;
  let n = probs.length;
  if (topP < 1) {
    let cumulative = 0;
    n = 0;
    while (n < probs.length && cumulative < topP) cumulative += probs[n++];
    n = Math.max(1, n);
  }
  sum = probs.slice(0, n).reduce((s, p) => s + p, 0);
  let u = random() * sum;
  for (let i = 0; i < n; i++) {
    u -= probs[i];
    if (u < 0) return kept[i];
  }
  return kept[n - 1];
}

function stopSet(model: TransformerLM, eos: GenerateOptions['eosTokenId'], fallback: number | null): Set<number> {
  if (eos === null) return new Set();
  if (eos !== undefined) return new Set(typeof eos === 'number' ? [eos] : eos);
  const fromConfig = model.generationConfig?.eos_token_id ?? model.config.eos_token_id;
  if (typeof fromConfig === 'number') return new Set([fromConfig]);
  if (Array.isArray(fromConfig)) return new Set(fromConfig.filter((x): x is number => typeof x === 'number'));
  return new Set(fallback === null ? [] : [fallback]);
}

/**
 * Continues each prompt (token ids, BOS included as the model expects) by up to `maxNewTokens` tokens. Prompts of
 * different lengths run as one left-padded batch; a finished row stops recording at its EOS.
 */
export async function generateTokens(
  model: TransformerLM, prompts: readonly (readonly number[])[], options: GenerateOptions = {}, eosFallback: number | null = null,
): Promise<number[][]> {
  const maxNew = options.maxNewTokens ?? 32;
  if (!prompts.length) return [];
  prompts.forEach((p, i) => {
    if (!p.length) throw new Error(`generate: prompt ${i} has no tokens (encode it with special tokens, e.g. BOS)`);
  });
  const doSample = options.doSample ?? model.generationConfig?.do_sample === true;
  const stops = stopSet(model, options.eosTokenId, eosFallback);
  const padId = options.padTokenId ?? (typeof model.config.pad_token_id === 'number' ? model.config.pad_token_id : [...stops][0] ?? 0);
  const useCache = options.useCache ?? true;
  const B = prompts.length;
  const width = Math.max(...prompts.map((p) => p.length));
  const rows = prompts.map((p) => [...new Array<number>(width - p.length).fill(padId), ...p]);
  const mask = prompts.map((p) => [...new Array<number>(width - p.length).fill(0), ...new Array<number>(p.length).fill(1)]);
  const randoms = prompts.map((_, r) => mulberry32(((options.seed ?? 0) * 0x9e3779b1 + r * 0x85ebca6b) >>> 0));
  const out: number[][] = prompts.map(() => []);
  const done = new Array<boolean>(B).fill(false);
  let cache: KVCache | null = null;
  let fresh = rows.map((r) => r.slice()); // tokens the next step must feed
  try {
    for (let step = 0; step < maxNew && !done.every(Boolean); step++) {
      const feed = useCache ? fresh : rows;
      const inputIds = tf.tensor2d(feed, [B, feed[0].length], 'int32') as Tensor2D;
      const attentionMask = tf.tensor2d(mask, [B, mask[0].length], 'int32') as Tensor2D;
      const result = model.step({ inputIds, attentionMask }, { cache, useCache, lastOnly: true });
      tf.dispose([inputIds, attentionMask]);
      if (useCache) {
        disposeCache(cache);
        cache = result.cache ?? null;
      }
      const logits = (await result.logits.data()) as Float32Array;
      result.logits.dispose();
      const V = logits.length / B;
      const next: number[] = [];
      for (let r = 0; r < B; r++) {
        const row = logits.subarray(r * V, (r + 1) * V);
        const token = doSample ? sampleToken(row, options, randoms[r]) : argmax(row);
        if (done[r]) {
          next.push(padId);
          continue;
        }
        out[r].push(token);
        if (stops.has(token)) done[r] = true;
        next.push(token);
      }
      rows.forEach((row, r) => row.push(next[r]));
      mask.forEach((m) => m.push(1));
      fresh = next.map((t) => [t]);
    }
  } finally {
    disposeCache(cache);
  }
  return out;
}

/** Encodes `prompts`, generates, and decodes the new tokens of each. */
export async function generate(
  model: TransformerLM, tokenizer: Tokenizer, prompts: readonly string[], options: GenerateOptions = {},
): Promise<GenerateResult> {
  const ids = await tokenizer.encodeBatch(prompts);
  const padTokenId = options.padTokenId ?? tokenizer.padTokenId ?? tokenizer.eosTokenId ?? undefined;
  const tokens = await generateTokens(model, ids, { ...options, padTokenId }, tokenizer.eosTokenId);
  // decode prompt + continuation and cut the prompt's text (as HF's text-generation pipeline does): decoders that
  // strip a leading space (SentencePiece) would otherwise eat the space between prompt and continuation
  const texts = await Promise.all(tokens.map(async (t, i) => {
    const prompt = await tokenizer.decode(ids[i], { skipSpecialTokens: true });
    const whole = await tokenizer.decode([...ids[i], ...t], { skipSpecialTokens: true });
    return whole.startsWith(prompt) ? whole.slice(prompt.length) : await tokenizer.decode(t, { skipSpecialTokens: true });
  }));
  return { texts, tokens };
}

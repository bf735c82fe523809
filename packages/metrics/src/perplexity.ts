// Perplexity: exp of the token-weighted mean NLL over every labelled token of a set of batches,
// exp(Σ NLL / Σ tokens) — the corpus-level form (not the mean of per-sample perplexities).
import type { CausalLM, TokenBatch } from '@unlearn/core';
import { answerLogProbs } from './answer-log-probs.js';

export async function perplexity(model: CausalLM, batches: readonly TokenBatch[]): Promise<number> {
  let nll = 0;
  let tokens = 0;
  for (const batch of batches) {
    for (const s of await answerLogProbs(model, batch)) {
      nll += s.nll;
      tokens += s.numTokens;
    }
  }
  if (tokens === 0) throw new Error('perplexity: the batches have no labelled tokens');
  return Math.exp(nll / tokens);
}

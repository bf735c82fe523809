// The data a mask builder scores parameters on (WAGLE, SalUn need forget and retain gradients): the encoded forget
// examples and as many retain examples (at least one batch), collated in order into batches of the training size.
import * as tf from '@tensorflow/tfjs-core';
import type { CausalLM, Mask, MaskData, TokenBatch } from '@unlearn/core';
import { get } from '@unlearn/core';
import { collate, type EncodedExample } from '@unlearn/data';

/** Forget batches and a retain sample of the same size (at least `batchSize` rows), as new tensors. */
export function maskData(
  forget: readonly EncodedExample[], retain: readonly EncodedExample[] | undefined, o: { batchSize: number; padTokenId: number },
): MaskData {
  const batchesOf = (ex: readonly EncodedExample[]): TokenBatch[] => {
    const out: TokenBatch[] = [];
    for (let i = 0; i < ex.length; i += o.batchSize) out.push(collate(ex.slice(i, i + o.batchSize), { padTokenId: o.padTokenId }));
    return out;
  };
  return { forget: batchesOf(forget), retain: retain ? batchesOf(retain.slice(0, Math.max(forget.length, o.batchSize))) : undefined };
}

/** Builds the registered mask `name` on that data (which it disposes afterwards). */
export async function buildMask(
  model: CausalLM, spec: { name: string; keep: number; options: Record<string, unknown> },
  forget: readonly EncodedExample[], retain: readonly EncodedExample[] | undefined, o: { batchSize: number; padTokenId: number },
): Promise<Mask> {
  const data = maskData(forget, retain, o);
  try {
    return await get('mask', spec.name)(spec.options).build(model, data, { keep: spec.keep });
  } finally {
    tf.dispose([...data.forget, ...(data.retain ?? [])] as unknown as tf.TensorContainer);
  }
}

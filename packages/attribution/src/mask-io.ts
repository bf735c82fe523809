// Masks on disk: a safetensors file of BOOL tensors keyed by parameter name (1 = may change), with metadata
// {format: "unlearn-mask", kept, total}. Written atomically; on load every tensor is checked to hold only 0/1 and,
// given the model's parameters, to name one of them with the same shape — one-line errors naming file and tensor.
import * as tf from '@tensorflow/tfjs-core';
import type { Mask, ParamMap } from '@unlearn/core';
import { readSafetensors, writeSafetensors } from '@unlearn/tensors';

export const MASK_FORMAT = 'unlearn-mask';

export interface MaskSummary {
  kept: number;
  total: number;
  /** kept / total */
  fraction: number;
  perTensor: Record<string, { kept: number; total: number }>;
}

function checkBinary(where: string, name: string, values: ArrayLike<number>): number {
  let kept = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === 1) kept++;
    else if (v !== 0) throw new Error(`${where}: mask tensor "${name}" has value ${v} at flat index ${i} (a mask holds only 0 and 1)`);
  }
  return kept;
}

/** Throws (one line, naming the tensor) unless every mask tensor names a parameter in `params` with the same shape. */
export function validateMask(mask: Mask, params: ParamMap, where = 'mask'): void {
  for (const [name, t] of mask) {
    const p = params.get(name);
    if (!p) throw new Error(`${where}: mask tensor "${name}" is not a parameter of the model`);
    if (p.shape.join() !== t.shape.join()) {
      throw new Error(`${where}: mask tensor "${name}" has shape [${t.shape}] but the model's parameter has [${p.shape}]`);
    }
  }
}

/** Counts of entries that may change, overall and per tensor. Checks that the mask holds only 0 and 1. */
export async function summarizeMask(mask: Mask): Promise<MaskSummary> {
  const perTensor: MaskSummary['perTensor'] = {};
  let kept = 0;
  let total = 0;
  for (const [name, t] of mask) {
    const k = checkBinary('mask', name, await t.data());
    perTensor[name] = { kept: k, total: t.size };
    kept += k;
    total += t.size;
  }
  return { kept, total, fraction: total ? kept / total : 0, perTensor };
}

/** Writes `mask` to `file` (safetensors, BOOL), atomically. */
export async function saveMask(mask: Mask, file: string, metadata: Record<string, string> = {}): Promise<void> {
  const summary = await summarizeMask(mask);
  const bools = new Map<string, tf.Tensor>();
  try {
    for (const [name, t] of mask) bools.set(name, tf.cast(t, 'bool'));
    await writeSafetensors(file, bools, { ...metadata, format: MASK_FORMAT, kept: String(summary.kept), total: String(summary.total) });
  } finally {
    tf.dispose([...bools.values()]);
  }
}

/** Reads a mask written by `saveMask` (or any safetensors of 0/1 tensors) as float32 0/1 tensors; validated against `params` when given. */
export async function loadMask(file: string, options: { params?: ParamMap } = {}): Promise<Mask> {
  const { tensors } = await readSafetensors(file);
  const mask: Mask = new Map();
  try {
    for (const [name, t] of tensors) {
      checkBinary(file, name, await t.data());
      mask.set(name, t.dtype === 'float32' ? tf.clone(t) : tf.cast(t, 'float32'));
    }
    if (options.params) validateMask(mask, options.params, file);
    return mask;
  } catch (e) {
    tf.dispose([...mask.values()]);
    throw e;
  } finally {
    tf.dispose([...tensors.values()]);
  }
}

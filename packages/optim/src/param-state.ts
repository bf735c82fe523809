// Optimizer state keyed by parameter NAME (never by position, unlike tfjs's own optimizers): per-parameter slots
// `<name>/<slot>` plus integer counters under plain names. `toMap()`/`load()` round-trip exactly.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { Mask, TensorMap } from '@unlearn/core';

export class ParamState {
  private readonly slots = new Map<string, Tensor>();
  private readonly counters = new Map<string, number>();

  private readonly floats: ReadonlySet<string>;

  /** `floatCounters`: counters that hold real numbers (saved as float32 scalars; the others as int32). */
  constructor(private readonly owner: string, private readonly slotNames: readonly string[], counterNames: readonly string[] = ['step'], floatCounters: readonly string[] = []) {
    for (const c of [...counterNames, ...floatCounters]) this.counters.set(c, 0);
    this.floats = new Set(floatCounters);
  }

  counter(name: string): number {
    return this.counters.get(name)!;
  }

  setCounter(name: string, value: number): void {
    this.counters.set(name, value);
  }

  get(param: string, slot: string): Tensor | undefined {
    return this.slots.get(`${param}/${slot}`);
  }

  /** Stores `value` (kept out of any tidy scope), disposing what it replaces. */
  set(param: string, slot: string, value: Tensor): void {
    const key = `${param}/${slot}`;
    const old = this.slots.get(key);
    this.slots.set(key, tf.keep(value));
    if (old && old !== value) old.dispose();
  }

  toMap(): TensorMap {
    const out: TensorMap = new Map();
    for (const [k, v] of this.counters) out.set(k, tf.scalar(v, this.floats.has(k) ? 'float32' : 'int32'));
    for (const [k, v] of this.slots) out.set(k, tf.clone(v));
    return out;
  }

  /**
   * Replaces slots and counters with copies of `state`'s. Validates every entry first (nothing changes on a bad map),
   * then reads the scalar counters back asynchronously, all at once (no dataSync: WebGPU in Node has none).
   */
  async load(state: TensorMap): Promise<void> {
    const slots = new Map<string, Tensor>();
    const counterTensors = new Map<string, Tensor>();
    for (const [key, t] of state) {
      if (this.counters.has(key)) {
        if (t.size !== 1) throw new Error(`${this.owner}.loadState: "${key}" must be a scalar, got shape [${t.shape}]`);
        counterTensors.set(key, t);
        continue;
      }
      const cut = key.lastIndexOf('/');
      const slot = key.slice(cut + 1);
      if (cut <= 0 || !this.slotNames.includes(slot)) {
        throw new Error(`${this.owner}.loadState: unknown state entry "${key}" (expected <param>/${this.slotNames.join('|')} or ${[...this.counters.keys()].join(', ')})`);
      }
      slots.set(key, t);
    }
    const counterValues = await Promise.all([...counterTensors.values()].map(async (t) => (await t.data())[0]));
    this.dispose();
    [...counterTensors.keys()].forEach((k, i) => this.counters.set(k, counterValues[i]));
    for (const [k, v] of slots) this.slots.set(k, tf.keep(tf.clone(v)));
  }

  dispose(): void {
    tf.dispose([...this.slots.values()]);
    this.slots.clear();
    for (const k of this.counters.keys()) this.counters.set(k, 0);
  }
}

/**
 * The mask entry of `param`: `undefined` when there is no mask (everything may change), `null` when the mask leaves
 * the parameter out (frozen entirely), else its 0/1 tensor (checked against the parameter's shape).
 */
export function maskOf(owner: string, mask: Mask | undefined, param: string, shape: readonly number[]): Tensor | null | undefined {
  if (!mask) return undefined;
  const m = mask.get(param);
  if (!m) return null;
  if (m.shape.join() !== shape.join()) throw new Error(`${owner}: mask for "${param}" has shape [${m.shape}], the parameter [${shape}]`);
  return m;
}

/** `next` where the mask is 1, `prev` (bit-exact) where it is 0; `next` when there is no mask. Call inside a tidy. */
export function keepFrozen(mask: Tensor | undefined, next: Tensor, prev: Tensor): Tensor {
  return mask ? tf.where(tf.greater(mask, 0), next, prev) : next;
}

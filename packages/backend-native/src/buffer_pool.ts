// Recycles the large Float32Arrays native kernels write their outputs into. A fresh 4 MB array costs ~0.3 ms of
// page faults — more than the kernel that fills it — and a training step allocates hundreds; the same sizes come
// back every step, so a pool keyed by length serves almost all of them.
// Safety: an array is reused only when no tensor refers to its ArrayBuffer any more. Every write into the backend
// (including the subarray views tfjs-backend-cpu's Slice makes) counts a reference on the buffer; disposal drops
// it. Reads (dataSync/data) get a copy, so arrays held by user code never alias pooled memory.
export const MIN_POOLED_ELEMENTS = 16 * 1024;

/** UNLEARN_NATIVE_POISON=1: every array handed out is NaN-filled, so a kernel that reads before it writes shows. */
const poisonFromEnv = (): boolean => typeof process !== 'undefined' && process.env?.UNLEARN_NATIVE_POISON === '1';

export class BufferPool {
  private readonly free = new Map<number, Float32Array[]>();
  private readonly live = new Map<ArrayBufferLike, { base: Float32Array; refs: number }>();
  private readonly owned = new WeakMap<ArrayBufferLike, Float32Array>();
  private pooledBytes = 0;

  /** Debug mode (default: UNLEARN_NATIVE_POISON=1): alloc fills every array, small and fresh ones too, with NaN. */
  poison: boolean;

  constructor(readonly maxPooledBytes = 1 << 30, poison = poisonFromEnv()) {
    this.poison = poison;
  }

  /** An uninitialised (recycled or fresh) array of n floats: the caller must write every element. */
  alloc(n: number): Float32Array {
    const out = this.take(n);
    return this.poison ? out.fill(NaN) : out;
  }

  private take(n: number): Float32Array {
    if (n < MIN_POOLED_ELEMENTS) return new Float32Array(n);
    const reused = this.free.get(n)?.pop();
    if (reused) {
      this.pooledBytes -= reused.byteLength;
      return reused;
    }
    const fresh = new Float32Array(n);
    this.owned.set(fresh.buffer, fresh);
    return fresh;
  }

  /** True when `values` lives in pool-managed memory (then it must not escape to user code uncopied). */
  isPooled(values: unknown): values is Float32Array {
    return ArrayBuffer.isView(values) && this.owned.has(values.buffer);
  }

  /** A tensor now refers to `values` (or a view of it). */
  retain(values: unknown): void {
    if (!ArrayBuffer.isView(values)) return;
    const base = this.owned.get(values.buffer);
    if (!base) return;
    const entry = this.live.get(values.buffer);
    if (entry) entry.refs++;
    else this.live.set(values.buffer, { base, refs: 1 });
  }

  /** A tensor referring to `values` was freed; the array returns to the pool when nothing refers to it. */
  release(values: unknown): void {
    if (!ArrayBuffer.isView(values)) return;
    const entry = this.live.get(values.buffer);
    if (!entry || --entry.refs > 0) return;
    this.live.delete(values.buffer);
    if (this.pooledBytes + entry.base.byteLength > this.maxPooledBytes) return;
    this.pooledBytes += entry.base.byteLength;
    let list = this.free.get(entry.base.length);
    if (!list) this.free.set(entry.base.length, (list = []));
    list.push(entry.base);
  }

  /** Bytes waiting for reuse, and buffers referred to by live tensors. */
  stats(): { pooledBytes: number; liveBuffers: number } {
    return { pooledBytes: this.pooledBytes, liveBuffers: this.live.size };
  }

  clear(): void {
    this.free.clear();
    this.pooledBytes = 0;
  }
}

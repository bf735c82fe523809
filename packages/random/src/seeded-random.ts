// A small seeded PRNG so shuffles, batch orders, refusal draws and demo data are reproducible on every platform.
// mulberry32 (Tommy Ettinger, public domain): 32-bit state, period 2^32, passes gjrand/PractRand to 2^32 outputs —
// plenty for shuffling datasets, and not for cryptography. Streams for sub-tasks come from `deriveSeed`, a
// 32-bit integer hash (Chris Wellons' lowbias32, "hash-prospector") of the seed and a salt.

export interface SeededRandom {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform 32-bit unsigned integer. */
  uint32(): number;
  /** The whole generator state (one uint32): `seededRandom(r.state)` continues this stream exactly. */
  readonly state: number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** A uniformly chosen element. */
  pick<T>(items: readonly T[]): T;
  /** Fisher–Yates shuffle of a copy. */
  shuffle<T>(items: readonly T[]): T[];
  /** `count` distinct elements, in random order. */
  sample<T>(items: readonly T[], count: number): T[];
}

function lowbias32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** A 32-bit seed for an independent stream: `deriveSeed(seed, epoch)`, `deriveSeed(seed, 'retain', pass)`. */
export function deriveSeed(seed: number, ...salts: (number | string)[]): number {
  let h = lowbias32(seed >>> 0);
  for (const salt of salts) {
    if (typeof salt === 'number') h = lowbias32(h ^ lowbias32(salt >>> 0));
    else for (let i = 0; i < salt.length; i++) h = lowbias32(h ^ salt.charCodeAt(i));
  }
  return h;
}

/** mulberry32 seeded with `seed` (any number; it is taken modulo 2^32). */
export function seededRandom(seed: number): SeededRandom {
  if (!Number.isFinite(seed)) throw new Error(`seededRandom: seed must be a finite number, got ${seed}`);
  let state = seed >>> 0;
  const uint32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const next = (): number => uint32() / 4294967296;
  const int = (n: number): number => Math.floor(next() * n);
  const shuffle = <T>(items: readonly T[]): T[] => {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = int(i + 1);
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  };
  return {
    next,
    uint32,
    get state() {
      return state;
    },
    int,
    pick: (items) => {
      if (items.length === 0) throw new Error('seededRandom.pick: no items');
      return items[int(items.length)];
    },
    shuffle,
    sample: (items, count) => {
      if (count > items.length) throw new Error(`seededRandom.sample: asked for ${count} of ${items.length} items`);
      return shuffle(items).slice(0, count);
    },
  };
}

/** A function giving uniform floats in [0, 1) from mulberry32 seeded with `seed` (for `Float32Array.from({length}, f)`). */
export function mulberry32(seed: number): () => number {
  return seededRandom(seed).next;
}

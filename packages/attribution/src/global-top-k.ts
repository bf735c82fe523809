// Global top-k selection over all parameters: exactly k = round(keep·N) entries, ranked across every tensor at once.
// The threshold is found with a quickselect (3-way partition, so runs of equal scores cost nothing extra) on one
// Float32Array copy of the scores — O(N), no sort. Ties at the threshold go to the earliest entries in parameter
// order, then flat index: the same scores always give the same mask.

/** Thrown for scores that cannot be ranked (NaN). */
function checkFinite(scores: ReadonlyMap<string, Float32Array>): void {
  for (const [name, s] of scores) {
    for (let i = 0; i < s.length; i++) {
      if (Number.isNaN(s[i])) throw new Error(`score of "${name}" is NaN at flat index ${i} (a NaN gradient or weight?)`);
    }
  }
}

/** The k-th largest value (1-based) of `values`, which it reorders. Expected O(n) (pseudo-random pivots, seeded: deterministic). */
export function kthLargest(values: Float32Array, k: number): number {
  if (!(Number.isInteger(k) && k >= 1 && k <= values.length)) throw new Error(`kthLargest: k = ${k} is outside 1..${values.length}`);
  const target = k - 1; // position in descending order
  let lo = 0;
  let hi = values.length - 1;
  let state = 0x9e3779b9;
  const swap = (i: number, j: number) => {
    const t = values[i];
    values[i] = values[j];
    values[j] = t;
  };
  for (;;) {
    if (lo === hi) return values[lo];
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const pivot = values[lo + (state % (hi - lo + 1))];
    // 3-way partition, descending: [lo, lt) > pivot, [lt, gt] == pivot, (gt, hi] < pivot
    let lt = lo;
    let i = lo;
    let gt = hi;
    while (i <= gt) {
      const v = values[i];
      if (v > pivot) swap(lt++, i++);
      else if (v < pivot) swap(i, gt--);
      else i++;
    }
    if (target < lt) hi = lt - 1;
    else if (target <= gt) return pivot;
    else lo = gt + 1;
  }
}

/** Throws unless `keep` is a fraction in (0, 1]. */
export function checkKeep(keep: unknown): asserts keep is number {
  if (typeof keep !== 'number' || !(keep > 0 && keep <= 1)) throw new Error(`keep must be a fraction in (0, 1], got ${String(keep)}`);
}

/** Number of entries kept for a fraction `keep` of `total`: round(keep·total). */
export function keepCount(keep: number, total: number): number {
  checkKeep(keep);
  const k = Math.round(keep * total);
  if (k === 0) throw new Error(`keep = ${keep} of ${total} parameter entries rounds to 0 entries: nothing could change`);
  return k;
}

/**
 * 0/1 selections (1 = among the k largest scores, across all tensors) in the iteration order of `scores`.
 * Exactly `k` ones in total.
 */
export function selectTopK(scores: ReadonlyMap<string, Float32Array>, k: number): Map<string, Uint8Array> {
  checkFinite(scores);
  let total = 0;
  for (const s of scores.values()) total += s.length;
  if (!(Number.isInteger(k) && k >= 0 && k <= total)) throw new Error(`selectTopK: k = ${k} is outside 0..${total}`);
  const out = new Map<string, Uint8Array>();
  if (k === 0) {
    for (const [name, s] of scores) out.set(name, new Uint8Array(s.length));
    return out;
  }
  const all = new Float32Array(total);
  let offset = 0;
  for (const s of scores.values()) {
    all.set(s, offset);
    offset += s.length;
  }
  const threshold = kthLargest(all, k);
  let above = 0;
  for (const s of scores.values()) for (let i = 0; i < s.length; i++) if (s[i] > threshold) above++;
  let ties = k - above; // entries equal to the threshold still to take, earliest first
  for (const [name, s] of scores) {
    const sel = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) {
      const v = s[i];
      if (v > threshold) sel[i] = 1;
      else if (v === threshold && ties > 0) {
        sel[i] = 1;
        ties--;
      }
    }
    out.set(name, sel);
  }
  return out;
}

// Sophia: Second-order Clipped Stochastic Optimization (Liu, Li, Hall, Liang & Ma 2023, arXiv:2305.14342, Alg. 3),
// the optimizer SOUL (Jia et al. 2024) runs on unlearning objectives. Per parameter, with t counting steps from 1:
//   m ← β1·m + (1−β1)·g
//   if (t−1) mod k = 0:  h ← β2·h + (1−β2)·ĥ,  n ← n + 1            (ĥ a diagonal-Hessian estimate, below)
//   ĥ_c = h / (1 − β2ⁿ)                                               (bias correction, see below)
//   θ ← θ·(1 − ηλ) − η·clip(m / max(ρ·ĥ_c, ε), −1, 1)                 (decay on rank ≥ 2 parameters)
// Estimators ĥ:
//   gnb         Gauss-Newton-Bartlett (paper Alg. 2) of THE OBJECTIVE: ĥ = ĝ⊙ĝ with ĝ = ∇ of the objective's sampled
//               Gauss-Newton loss (ctx.probe.gaussNewtonGrads: the positions it scores, with its outer weights), so
//               E[ĥ] = the diagonal of the objective's Gauss-Newton matrix. An objective that declares none (RMU) gets
//               the empirical-Fisher estimate instead (said once). Probes without it: ĥ = B·ĝ⊙ĝ of the mean CE of the
//               forget (+ retain) tokens against sampled labels (ctx.probe.sampledLabelGrads), the paper's LM form.
//   fisher      ĥ = B·g⊙g of the step's own gradient, every step (k = 1): what OPTML-Group/SOUL's SophiaG runs
//               (update_hessian() on the loss gradient inside step()). A COMPATIBILITY mode, not the paper's GNB.
//               B must be known: `batchSize`, or the probe's loss-bearing token count.
//   hutchinson  ĥ = u⊙(Hu), u Rademacher, Hu by finite differences (ctx.probe.hessianVectorProduct) — the paper's
//               Alg. 1 with a first-order HVP, since tfjs has no double backprop.
// Bias correction: Alg. 3 starts h at 0 and never corrects it (nor does the official code): after n refreshes h is
// (1 − β2ⁿ) of its target — 3% after 3 refreshes with β2 = 0.99, which is what a 30-step unlearning run gets (k = 10),
// and the clip then fires everywhere. Pre-training hides this behind ~10⁵ steps. We divide by 1 − β2ⁿ as Adam does for
// its second moment (Kingma & Ba 2015, Alg. 1 and §3): every estimate then enters an exact weighted average. The
// alternative, h ← ĥ at the first refresh, gives the first (noisy) estimate the weight β2ⁿ⁻¹ forever instead of its
// share; both agree at n = 1. `biasCorrection: false` restores the paper's (and SOUL's) h.
// ρ: the clip compares |m| with ρ·ĥ_c. With gnb, ĥ_c estimates the per-token curvature whatever the batch size, but
// |m| and the fisher estimate B·g⊙g do depend on it, and a memorised forget set has near-zero curvature (p ≈ 1) with a
// large gradient, so a fixed ρ tuned for 500K-token pre-training batches clips every entry on an 8-row unlearning batch
// (win rate < 1%: sign descent, not a second-order step). By default ρ is therefore CALIBRATED: at every refresh it is
// set to the `targetWinRate` quantile of |m|/ĥ_c over the entries being updated, so that fraction takes the
// curvature-scaled step — the Sophia README's own tuning rule ("tune ρ so that train/win_rate stays in 0.1–0.5"),
// applied per run, and independent of the batch size by construction. Give `rho` alone for the paper's fixed ρ.
// Differences from the official code (Liuhong99/Sophia sophia.py + train_sophiag.py), all deliberate:
//  - it keeps h = EMA(ĝ⊙ĝ) and divides by ρ·bs·h with a constant bs; we keep h = EMA(ĥ) with ĥ already an estimate of
//    the curvature (identical when B is constant) so that every estimator shares one h.
//  - it clips |m|/(ρ·bs·h + 1e-15) at 1; we use clip(m / max(ρh, ε)) as the paper does (same away from h ≈ 0).
//  - it refreshes h AFTER the update of every k-th step; we refresh BEFORE the update of steps 1, k+1, … (paper order),
//    so the first step already has curvature.
//  - SOUL's SophiaG updates m twice per step (update_exp_avg() and again in the update), i.e. m ← β1²m + (1−β1²)g:
//    pass betas [β1², β2] to reproduce a SOUL run exactly (the `soul-tofu` preset does); we update once.
// Step stats: `winRate` (train_sophiag.py's win_rate: the fraction of updated entries with |m| < ρ·ĥ_c, i.e. NOT
// clipped), `clipFraction` = 1 − winRate, `rho`, and the curvature: `hMean`, `hMedian`, `hMax` of ĥ_c, `curvatureScale`
// = ρ·median(ĥ_c) (the |m| above which a typical entry clips) next to `momentumMedian` = median |m|. Medians come from a
// fixed strided sample of ≤ 65,536 entries. A run whose win rate stays below 1% (or above 99%) over its first 5 steps
// warns once. Host reads are asynchronous (WebGPU in Node has no synchronous readback): one download per step, plus
// one per refresh when ρ is calibrated (the sample) and B when the estimator needs it.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { CurvatureProbe, Mask, Optimizer, ParamMap, StepContext, StepStats, TensorMap } from '@unlearn/core';
import { z } from 'zod';
import { betas, lr, mix32, nonnegative, parseOptions, positive, stepSeed } from './options.js';
import { keepFrozen, maskOf, ParamState } from './param-state.js';
import { sumScalars } from './scalar-sum.js';

/** What an estimator sees: the parameters being updated, their gradients, the step's probe and randomness. */
export interface HessianEstimatorInput {
  params: ParamMap;
  grads: TensorMap;
  probe: CurvatureProbe;
  mask?: Mask;
  seed: number;
  /** Sophia's B: the loss-bearing tokens of the step (or the fixed `batchSize`); NaN when neither is known. */
  batchSize: number;
}

/** Returns ĥ, a diagonal-Hessian estimate for (at least) every parameter of `grads`, or a Promise of it; the caller disposes it. */
export type HessianEstimator = (input: HessianEstimatorInput) => TensorMap | Promise<TensorMap>;

/** Thrown by an estimator that cannot apply to the step's objective (the caller falls back to `fisher`). */
class NoGaussNewton extends Error {}

/**
 * GNB (Sophia Alg. 2) of the objective: ĥ = ĝ⊙ĝ with ĝ = ∇ of the objective's sampled Gauss-Newton loss when the probe
 * offers it, else ĥ = B·ĝ⊙ĝ with ĝ the mean CE of the batch's tokens against labels sampled from the model.
 */
export const gnbEstimator: HessianEstimator = ({ probe, seed, batchSize, grads }) => {
  let sampled: TensorMap;
  let scale = 1;
  if (probe.gaussNewtonGrads) {
    const g = probe.gaussNewtonGrads(seed);
    if (g === null) throw new NoGaussNewton();
    sampled = g;
  } else {
    if (!Number.isFinite(batchSize)) throw new Error('sophia: the gnb estimator (sampledLabelGrads) needs the batch token count B: give `batchSize` or a probe with batchTokens()');
    sampled = probe.sampledLabelGrads(seed);
    scale = batchSize;
  }
  const out: TensorMap = new Map();
  for (const [name, g] of sampled) {
    if (grads.has(name)) out.set(name, tf.tidy(() => (scale === 1 ? tf.square(g) : tf.mul(tf.square(g), scale))));
    g.dispose();
  }
  return out;
};

/** Empirical-Fisher diagonal of the step's own gradient, ĥ = B·g⊙g (SOUL's code). */
export const fisherEstimator: HessianEstimator = ({ grads, batchSize }) => {
  if (!Number.isFinite(batchSize)) {
    throw new Error('sophia: the fisher estimator (ĥ = B·g⊙g) needs B: pass `batchSize` (SOUL\'s code uses 5120) or step through a Trainer, whose probe counts the loss-bearing tokens');
  }
  return new Map([...grads].map(([name, g]) => [name, tf.tidy(() => tf.mul(tf.square(g), batchSize))]));
};

/** A ±1 direction, deterministic in `seed`. */
export function rademacher(shape: number[], seed: number): Tensor {
  return tf.tidy(() => tf.sub(tf.mul(tf.cast(tf.less(tf.randomUniform(shape, 0, 1, 'float32', seed), 0.5), 'float32'), 2), 1));
}

/**
 * Hutchinson (Sophia Alg. 1): ĥ = u⊙(Hu). `direction` draws u per parameter (default Rademacher); u is zero on
 * masked-out entries, which leaves the estimate unbiased on the others and spends no variance on frozen ones.
 */
export function hutchinsonEstimator(direction: (name: string, shape: number[], seed: number) => Tensor = (_n, shape, seed) => rademacher(shape, seed)): HessianEstimator {
  return async ({ grads, params, probe, mask, seed }) => {
    const u: TensorMap = new Map();
    let i = 0;
    for (const name of grads.keys()) {
      const p = params.get(name)!;
      const raw = direction(name, p.shape, mix32(seed, i++));
      const m = mask?.get(name);
      u.set(name, m ? tf.tidy(() => tf.mul(raw, m)) : raw);
      if (m) raw.dispose();
    }
    let hu: TensorMap;
    try {
      hu = await probe.hessianVectorProduct(u);
    } catch (e) {
      tf.dispose([...u.values()]);
      throw e;
    }
    const out: TensorMap = new Map();
    for (const [name, d] of u) out.set(name, tf.tidy(() => tf.mul(d, hu.get(name)!)));
    tf.dispose([...u.values(), ...hu.values()]);
    return out;
  };
}

/**
 * Named configurations. `soul-tofu`: what OPTML-Group/SOUL ran on TOFU (configs/TOFU/SO_GradDiff.json: lr 5e-6,
 * weight_decay 0.1, sophia_params betas_low 0.9 / betas_high 0.95 / rho 0.04; src/optim/sophia.py SophiaG: ĥ = g⊙g of
 * the loss gradient every step, m updated twice per step, step(bs=5120) never overridden, h never bias-corrected).
 * Its GradDiff weights the RETAIN term by γ = 2 (src/unlearn/GA.py: loss = −forget + γ·retain) and HF's Trainer adds
 * linear decay with 10% warm-up and grad-norm clipping at 1.0; those belong to the objective and the loop, not here.
 */
export const SOPHIA_PRESETS = {
  'soul-tofu': { lr: 5e-6, betas: [0.9 ** 2, 0.95] as [number, number], rho: 0.04, weightDecay: 0.1, estimator: 'fisher' as const, batchSize: 5120, biasCorrection: false },
} as const;

export const sophiaOptions = z
  .object({
    /** Start from a named configuration ({@link SOPHIA_PRESETS}); explicit options override it. */
    preset: z.enum(['soul-tofu']).optional(),
    lr: lr.optional(),
    betas: betas.optional(),
    /** Fixed ρ (the paper's). Without `targetWinRate`, ρ stays fixed; with it, ρ is only the fallback while calibrating. */
    rho: positive.optional(),
    /** Calibrate ρ at every refresh so this fraction of the updated entries is not clipped (default 0.25 when `rho` is not given). */
    targetWinRate: z.number().gt(0).lt(1).optional(),
    weightDecay: nonnegative.optional(),
    /** Refresh h every k steps (default 10; 1 for `fisher`). */
    k: z.number().int().positive().optional(),
    estimator: z.union([z.enum(['gnb', 'fisher', 'hutchinson']), z.custom<HessianEstimator>((v) => typeof v === 'function')], {
      errorMap: (_issue, ctx) => ({ message: `expected one of "gnb", "fisher", "hutchinson" or a function, got ${JSON.stringify(ctx.data) ?? String(ctx.data)}` }),
    }).optional(),
    eps: positive.default(1e-12),
    /** Fix Sophia's B instead of using the step's loss-bearing token count. */
    batchSize: positive.optional(),
    /** Divide h by 1 − β2ⁿ after n refreshes (default true; the `soul-tofu` preset turns it off, as SOUL's code has none). */
    biasCorrection: z.boolean().optional(),
    /** Where the one-line warnings go (default console.warn). */
    onWarning: z.custom<(message: string) => void>((v) => typeof v === 'function', 'expected a function').optional(),
  })
  .strict();
export type SophiaOptions = z.input<typeof sophiaOptions>;

const ESTIMATORS: Record<'gnb' | 'fisher' | 'hutchinson', HessianEstimator> = { gnb: gnbEstimator, fisher: fisherEstimator, hutchinson: hutchinsonEstimator() };
/** Entries sampled (with a fixed stride) for the ρ calibration and the medians. */
const SAMPLE = 65536;
/** Steps after which a win rate that stayed outside (1%, 99%) is reported. */
const WARN_AFTER = 5;
const DEFAULT_TARGET_WIN_RATE = 0.25;

/** The `q` quantile rule for ρ: the smallest r with ⌊q·n⌋ sampled ratios below it (r = |m|/ĥ_c; +∞ where ĥ_c = 0). */
export function calibratedRho(ratios: ArrayLike<number>, q: number): number | undefined {
  // NaN (0/0) and negative ratios (ĥ < 0, e.g. Hutchinson) never win: count them as +∞
  const finite = Float64Array.from(ratios, (r) => (Number.isNaN(r) || r < 0 ? Infinity : r)).sort();
  if (finite.length === 0) return undefined;
  let j = Math.min(finite.length - 1, Math.floor(q * finite.length));
  while (j < finite.length && !(finite[j] > 0)) j++; // ρ = 0 would clip everything: take the first positive ratio
  const rho = finite[j];
  return rho !== undefined && Number.isFinite(rho) && rho > 0 ? rho : undefined;
}

function median(xs: Float64Array): number {
  if (xs.length === 0) return 0;
  const s = Float64Array.from(xs).sort();
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

export function sophia(options: SophiaOptions = {}): Optimizer {
  const given = parseOptions('sophia', sophiaOptions, options);
  const preset = given.preset ? SOPHIA_PRESETS[given.preset] : undefined;
  const o = {
    lr: given.lr ?? preset?.lr ?? 1e-4,
    betas: given.betas ?? preset?.betas ?? [0.965, 0.99],
    weightDecay: given.weightDecay ?? preset?.weightDecay ?? 0.1,
    estimator: given.estimator ?? preset?.estimator ?? 'gnb',
    batchSize: given.batchSize ?? preset?.batchSize,
    biasCorrection: given.biasCorrection ?? preset?.biasCorrection ?? true,
    eps: given.eps,
  };
  const fixedRho = given.rho ?? preset?.rho;
  const target = given.targetWinRate ?? (fixedRho === undefined ? DEFAULT_TARGET_WIN_RATE : undefined);
  const warn = given.onWarning ?? ((message: string) => console.warn(message));
  const estimatorName = typeof o.estimator === 'string' ? o.estimator : 'custom';
  const estimate = typeof o.estimator === 'string' ? ESTIMATORS[o.estimator] : o.estimator;
  const k = given.k ?? (o.estimator === 'fisher' ? 1 : 10);
  const [b1, b2] = o.betas;
  const state = new ParamState('sophia', ['exp_avg', 'hessian'], ['step', 'refreshes'], ['rho']);
  const sampleIndex = new Map<string, Tensor>(); // per parameter, the strided entries sampled
  let extremeSteps = 0; // leading steps with win rate outside (1%, 99%)
  let warnedExtreme = false;
  let warnedFallback = false;

  const indicesFor = (live: Map<string, Tensor | undefined>, params: ParamMap) => {
    const total = [...live.keys()].reduce((s, n) => s + params.get(n)!.size, 0);
    const stride = Math.max(1, Math.ceil(total / SAMPLE));
    for (const name of live.keys()) {
      const size = params.get(name)!.size;
      const key = `${name}#${stride}`;
      if (!sampleIndex.has(key)) sampleIndex.set(key, tf.keep(tf.range(0, size, stride, 'int32')));
    }
    return (name: string) => sampleIndex.get(`${name}#${stride}`)!;
  };

  return {
    name: 'sophia',
    specificationVersion: 'v1',
    async step(params: ParamMap, grads: TensorMap, ctx: StepContext): Promise<StepStats> {
      const eta = ctx.lr ?? o.lr;
      const t = state.counter('step') + 1;
      // the parameters this step may change, with their masks
      const live = new Map<string, Tensor | undefined>();
      for (const [name, p] of params) {
        const m = maskOf('sophia', ctx.mask, name, p.shape);
        if (grads.has(name) && m !== null) live.set(name, m);
      }
      const sampleOf = indicesFor(live, params);
      const refresh = (t - 1) % k === 0;
      let hHat: TensorMap | undefined;
      let fellBack = false;
      if (refresh) {
        if (estimatorName !== 'fisher' && !ctx.probe) throw new Error(`sophia: the ${estimatorName} estimator needs ctx.probe (run it through the Trainer or pass a CurvatureProbe)`);
        const liveGrads = new Map([...live.keys()].map((n) => [n, grads.get(n)!]));
        // B only where the estimator uses it (gnb on objective curvature does not)
        const countTokens = async () => o.batchSize ?? (ctx.probe ? await ctx.probe.batchTokens() : NaN);
        const usesB = !(estimatorName === 'gnb' && ctx.probe?.gaussNewtonGrads);
        const input: HessianEstimatorInput = { params, grads: liveGrads, probe: ctx.probe!, mask: ctx.mask, seed: stepSeed(ctx.seed, state.counter('step')), batchSize: usesB ? await countTokens() : NaN };
        try {
          hHat = await estimate(input);
        } catch (e) {
          if (!(e instanceof NoGaussNewton)) throw e;
          fellBack = true;
          if (!warnedFallback) {
            warnedFallback = true;
            warn('sophia: the objective declares no Gauss-Newton curvature (objective.curvature.kind = "none"); the gnb estimator uses the empirical Fisher B·g⊙g of the loss gradient instead');
          }
          hHat = await fisherEstimator({ ...input, batchSize: await countTokens() });
        }
        state.setCounter('refreshes', state.counter('refreshes') + 1);
      }
      const n = state.counter('refreshes');
      const correction = o.biasCorrection && n > 0 ? 1 / (1 - b2 ** n) : 1;
      // 1. new moments for every live parameter (kept: they become the state)
      const moments = new Map<string, { m1: Tensor; h1: Tensor; hc: Tensor }>();
      try {
        for (const name of live.keys()) {
          const p = params.get(name)!;
          const g = grads.get(name)!;
          moments.set(name, tf.tidy(() => {
            const m0 = state.get(name, 'exp_avg') ?? tf.zerosLike(p);
            const h0 = state.get(name, 'hessian') ?? tf.zerosLike(p);
            const est = hHat?.get(name);
            const h1 = est ? tf.add(tf.mul(h0, b2), tf.mul(est, 1 - b2)) : tf.clone(h0);
            const m1 = tf.add(tf.mul(m0, b1), tf.mul(g, 1 - b1));
            const hc = correction === 1 ? tf.clone(h1) : tf.mul(h1, correction);
            return { m1, h1, hc };
          }));
        }
      } finally {
        if (hHat) tf.dispose([...hHat.values()]);
      }
      // 2. ρ: fixed, or calibrated at a refresh to the target win rate on a strided sample of |m|/ĥ_c
      let rho = target === undefined ? fixedRho! : state.counter('rho') || (fixedRho ?? 0.04);
      if (target !== undefined && refresh && live.size) {
        const packed = tf.tidy(() => tf.concat([...live].flatMap(([name, mask]) => {
          const { m1, hc } = moments.get(name)!;
          const idx = sampleOf(name);
          const r = tf.gather(tf.reshape(tf.div(tf.abs(m1), hc), [-1]), idx);
          return [tf.stack([r, mask ? tf.gather(tf.reshape(mask, [-1]), idx) : tf.onesLike(r)])];
        }), 1));
        let values: Float32Array;
        try {
          values = (await packed.data()) as Float32Array;
        } finally {
          packed.dispose();
        }
        const count = values.length / 2;
        const ratios: number[] = [];
        for (let i = 0; i < count; i++) if (values[count + i] > 0) ratios.push(values[i]);
        rho = calibratedRho(ratios, target) ?? rho;
      }
      state.setCounter('rho', rho);
      // 3. the update, the win count and the curvature statistics (one download)
      const wins: Tensor[] = [];
      const counts: Tensor[] = [];
      const hSums: Tensor[] = [];
      const hMaxes: Tensor[] = [];
      const samples: Tensor[] = [];
      for (const [name, mask] of live) {
        const p = params.get(name)!;
        const { m1, h1, hc } = moments.get(name)!;
        tf.tidy(() => {
          const denom = tf.mul(hc, rho);
          const ratio = tf.clipByValue(tf.div(m1, tf.maximum(denom, o.eps)), -1, 1);
          const decayed = o.weightDecay && p.rank >= 2 ? tf.mul(p, 1 - eta * o.weightDecay) : p;
          const next = tf.sub(decayed, tf.mul(ratio, eta));
          const unclipped = tf.cast(tf.less(tf.abs(m1), denom), 'float32');
          wins.push(tf.keep(tf.sum(mask ? tf.mul(unclipped, mask) : unclipped)));
          counts.push(tf.keep(mask ? tf.sum(mask) : tf.scalar(p.size)));
          hSums.push(tf.keep(tf.sum(mask ? tf.mul(hc, mask) : hc)));
          hMaxes.push(tf.keep(tf.max(mask ? tf.mul(hc, mask) : hc)));
          const idx = sampleOf(name);
          const flat = (x: Tensor) => tf.gather(tf.reshape(x, [-1]), idx);
          samples.push(tf.keep(tf.stack([flat(hc), flat(tf.abs(m1)), mask ? flat(mask) : tf.onesLike(flat(hc))])));
          const m0 = state.get(name, 'exp_avg') ?? tf.zerosLike(p);
          const h0 = state.get(name, 'hessian') ?? tf.zerosLike(p);
          state.set(name, 'exp_avg', mask ? keepFrozen(mask, m1, m0) : tf.clone(m1));
          state.set(name, 'hessian', mask ? keepFrozen(mask, h1, h0) : tf.clone(h1));
          p.assign(keepFrozen(mask, next, p));
        });
      }
      for (const { m1, h1, hc } of moments.values()) tf.dispose([m1, h1, hc]);
      state.setCounter('step', t);
      const stats: StepStats = { lr: eta, hessianRefreshed: refresh ? 1 : 0, rho, winRate: 0, clipFraction: 0, hMean: 0, hMedian: 0, hMax: 0, curvatureScale: 0, momentumMedian: 0 };
      if (fellBack) stats.fisherFallback = 1;
      if (live.size) {
        const summary = tf.tidy(() => tf.concat([tf.stack([sumScalars(wins), sumScalars(counts), sumScalars(hSums), tf.max(tf.stack(hMaxes))]), tf.reshape(tf.concat(samples, 1), [-1])]));
        const sampleWidth = samples.reduce((s, x) => s + x.shape[1]!, 0);
        tf.dispose([...wins, ...counts, ...hSums, ...hMaxes, ...samples]);
        let v: Float32Array;
        try {
          v = (await summary.data()) as Float32Array;
        } finally {
          summary.dispose();
        }
        const [won, total, hSum, hMax] = v;
        // samples were stacked per parameter as [3, w_p] and concatenated along entries: row r of the concat is rows r of each
        const rows = v.subarray(4);
        const hs: number[] = [];
        const ms: number[] = [];
        for (let i = 0; i < sampleWidth; i++) {
          if (rows[2 * sampleWidth + i] > 0) {
            hs.push(rows[i]);
            ms.push(rows[sampleWidth + i]);
          }
        }
        const hMedian = median(Float64Array.from(hs));
        Object.assign(stats, {
          winRate: total > 0 ? won / total : 0, clipFraction: total > 0 ? 1 - won / total : 0, hMean: total > 0 ? hSum / total : 0, hMedian, hMax,
          curvatureScale: rho * hMedian, momentumMedian: median(Float64Array.from(ms)),
        });
      }
      const extreme = stats.winRate < 0.01 || stats.winRate > 0.99;
      if (extreme && extremeSteps === t - 1) extremeSteps = t;
      if (!warnedExtreme && extremeSteps >= WARN_AFTER && t === WARN_AFTER) {
        warnedExtreme = true;
        const low = stats.winRate < 0.01;
        warn(`sophia: the win rate stayed ${low ? 'below 1%' : 'above 99%'} for the first ${WARN_AFTER} steps (now ${(100 * stats.winRate).toFixed(2)}%, ρ = ${rho < 1e-3 || rho >= 1e4 ? rho.toExponential(2) : rho.toPrecision(3)}): ${low ? 'nearly every entry takes the clipped step lr·sign(m) (sign descent, not a second-order step); raise ρ or set targetWinRate' : 'the clip never acts (a plain preconditioned step); lower ρ or set targetWinRate'}`);
      }
      return stats;
    },
    state: () => state.toMap(),
    async loadState(s) {
      await state.load(s);
      // checkpoints written before `refreshes` existed: every k-th step refreshed, starting with the first
      if (!s.has('refreshes') && state.counter('step') > 0) state.setCounter('refreshes', Math.floor((state.counter('step') - 1) / k) + 1);
    },
    dispose: () => {
      state.dispose();
      tf.dispose([...sampleIndex.values()]);
      sampleIndex.clear();
    },
  };
}

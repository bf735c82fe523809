// Loads the compiled Node-API addon (build/Release/unlearn_native.node, built by `pnpm build` via node-gyp).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Instruction-set builds of the kernels (chosen at load time from the CPU's feature flags). */
export type Isa = 'avx512' | 'avx2' | 'generic';

export interface AddonInfo {
  /** Kernel build in use. */
  isa: Isa;
  /** Fastest build this CPU supports. */
  bestIsa: Isa;
  /** Threads the pool runs kernels on (the calling thread included). */
  threads: number;
  supportedIsas: Isa[];
  /** Data-cache sizes in bytes (sysfs, else cpuid; UNLEARN_NATIVE_L1/L2/L3 override). l3Sharing: CPUs sharing L3. */
  caches: { l1: number; l2: number; l3: number; l3Sharing: number; source: string };
  /** The gemm's register tile (mr × nr) and cache blocking (kc, mc, nc) derived from `caches` for `isa`. */
  blocking: { mr: number; nr: number; kc: number; mc: number; nc: number };
  /**
   * The system BLAS (OpenBLAS / BLIS, opened at run time when installed): `policy` off (the default unless
   * UNLEARN_NATIVE_BLAS is set: bit-reproducible runs) = own kernel only; auto = each 2-D gemm shape is timed on both and
   * runs on the faster (timing-dependent, so not reproducible run to run); counts of shapes measured / won by the BLAS
   * and calls to each.
   */
  blas: { mode: string; policy: BlasPolicy; library: 'openblas' | 'blis' | null; path?: string; shapesMeasured: number;
    shapesToBlas: number; callsBlas: number; callsOwn: number };
}

/** When 2-D gemms may use the system BLAS: tuned per shape, always, or never. */
export type BlasPolicy = 'auto' | 'on' | 'off';

/** Experiments only: replaces the derived cache blocking until the next `configure({ isa })`. */
export interface BlockingOverride { kc?: number; mc?: number; nc?: number }

/** The addon's functions; every array argument is read or written in place. */
export interface NativeAddon {
  gemm(a: Float32Array, b: Float32Array, c: Float32Array, batch: number, m: number, n: number, k: number,
    transA: boolean, transB: boolean, aBatchStride: number, bBatchStride: number, bias: Float32Array | null,
    activation: number): void;
  binary(op: number, a: Float32Array, aShape: number[], b: Float32Array, bShape: number[], out: Float32Array,
    outShape: number[]): void;
  unary(op: number, x: Float32Array, out: Float32Array): void;
  reduce(isMax: boolean, x: Float32Array, out: Float32Array, outer: number, reduce: number, inner: number): void;
  softmax(x: Float32Array, out: Float32Array, rows: number, cols: number, log: boolean): void;
  transpose(x: Float32Array, out: Float32Array, shape: number[], perm: number[]): void;
  adamw(param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, lr: number, beta1: number,
    beta2: number, eps: number, weightDecay: number, step: number): void;
  copyRows(src: Float32Array, srcOffset: number, srcStride: number, dst: Float32Array, dstOffset: number,
    dstStride: number, rows: number, cols: number): void;
  /** Returns the first out-of-range index, or -1 when all were in range (and copied). */
  gatherRows(table: Float32Array, cols: number, indices: Int32Array, out: Float32Array): number;
  /** out = 0, then out[indices[i]] += updates[i] (rows of `cols`); returns the first out-of-range index, or −1. */
  scatterAddRows(updates: Float32Array, cols: number, indices: Int32Array, out: Float32Array): number;
  multinomial(probs: Float32Array, rows: number, cols: number, uniforms: Float64Array, out: Int32Array): void;
  /** One Sophia step in place (fused_sophia.ts); returns the entries not clipped. */
  sophia(param: Float32Array, grad: Float32Array, m: Float32Array, h: Float32Array, hessianEstimate: Float32Array | null,
    lr: number, beta1: number, beta2: number, rho: number, eps: number, weightDecay: number): number;
  /** picked[r] = x[r, labels[r]] − logsumexp(x[r]) (0 for an out-of-range label); lse[r] = logsumexp(x[r]). */
  pickLogProb(x: Float32Array, labels: Int32Array, rows: number, cols: number, picked: Float32Array, lse: Float32Array): void;
  /** dx[r] = g[r]·(onehot(labels[r]) − exp(x[r] − lse[r])). */
  pickLogProbGrad(x: Float32Array, labels: Int32Array, lse: Float32Array, g: Float32Array, rows: number, cols: number, dx: Float32Array): void;
  rmsNorm(x: Float32Array, weight: Float32Array, rows: number, cols: number, eps: number, y: Float32Array, rstd: Float32Array): void;
  rmsNormGrad(x: Float32Array, weight: Float32Array, rstd: Float32Array, dy: Float32Array, rows: number, cols: number,
    dx: Float32Array, dw: Float32Array): void;
  /** Rotate-half RoPE of x [rows, heads·d] with cos/sin [rows, d]; sign −1 rotates back (the gradient). */
  rope(x: Float32Array, cos: Float32Array, sin: Float32Array, rows: number, heads: number, d: number, sign: number, y: Float32Array): void;
  swiglu(gate: Float32Array, up: Float32Array, y: Float32Array): void;
  swigluGrad(gate: Float32Array, up: Float32Array, dy: Float32Array, dgate: Float32Array, dup: Float32Array): void;
  /** LayerNorm of rows: y = (x − mean)·rstd·gamma + beta, mean and rstd [rows] saved for the gradient. */
  layerNorm(x: Float32Array, gamma: Float32Array, beta: Float32Array, rows: number, cols: number, eps: number,
    y: Float32Array, mean: Float32Array, rstd: Float32Array): void;
  /** dx, and dgamma / dbeta overwritten with the sums over rows. */
  layerNormGrad(x: Float32Array, gamma: Float32Array, mean: Float32Array, rstd: Float32Array, dy: Float32Array, rows: number,
    cols: number, dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array): void;
  /** GELU, tanh form (GPT-2's gelu_new), and its gradient. */
  geluTanh(x: Float32Array, y: Float32Array): void;
  geluTanhGrad(x: Float32Array, dy: Float32Array, dx: Float32Array): void;
  /** p = softmax(scale·s) over keys j ≤ t + tk − tq of query t = row mod tq (0 elsewhere); rows = batch·tq. */
  causalSoftmax(s: Float32Array, rows: number, tq: number, tk: number, scale: number, p: Float32Array): void;
  /** ds = scale·p⊙(dp − ⟨dp, p⟩) per row. */
  causalSoftmaxGrad(p: Float32Array, dp: Float32Array, rows: number, tk: number, scale: number, ds: Float32Array): void;
  /** Causal attention (FlashAttention-2): q [B,H,tq,d], k, v [B,G,tk,d], bias [B,1,tq,tk] | null → o [B,H,tq,d], stats [B,H,tq,2] (row max, 1/row sum). */
  causalAttention(q: Float32Array, k: Float32Array, v: Float32Array, bias: Float32Array | null, B: number, H: number, G: number,
    tq: number, tk: number, d: number, scale: number, o: Float32Array, stats: Float32Array): void;
  /** Its gradient from q, k, v, o, dO and stats (P recomputed tile by tile): dq [B,H,tq,d], dk, dv [B,G,tk,d]. */
  causalAttentionGrad(q: Float32Array, k: Float32Array, v: Float32Array, bias: Float32Array | null, o: Float32Array, dO: Float32Array,
    stats: Float32Array, B: number, H: number, G: number, tq: number, tk: number, d: number, scale: number,
    dq: Float32Array, dk: Float32Array, dv: Float32Array): void;
  info(): AddonInfo;
  configure(o: { isa?: Isa; threads?: number; blas?: BlasPolicy; blocking?: BlockingOverride }): AddonInfo;
}

export const ADDON_PATH = fileURLToPath(new URL('../build/Release/unlearn_native.node', import.meta.url));

let cached: NativeAddon | undefined;

/** The addon (from `file`, default the package's build), or a one-line Error saying why it cannot load. */
export function loadAddon(file: string = ADDON_PATH): NativeAddon {
  if (file === ADDON_PATH && cached) return cached;
  if (!existsSync(file)) {
    throw new Error(`native addon not built (${file} is missing; run \`pnpm --filter @unlearn/backend-native build\` with g++, make and python3 installed)`);
  }
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(file) as NativeAddon;
  } catch (e) {
    throw new Error(`native addon ${file} failed to load: ${String((e as Error).message).split('\n')[0]}`);
  }
  if (file === ADDON_PATH) cached = addon;
  return addon;
}

// Fused transformer kernels, registered for the `native` backend only, each with its gradient (tfjs-core's
// one-kernel-one-gradient layout). @unlearn/tensors' ops (pickLogProb, rmsNorm, swiglu) run them when the active
// backend has them and compose tf ops otherwise, so models need no backend checks.
//   UnlearnPickLogProb  logits [n, v], labels int32 [n] -> log p(label) [n] = x[label] − logsumexp(x), lse [n]
//                       backward: dlogits = dy·(onehot(label) − exp(x − lse)) from the saved logits and lse — no
//                       [n, v] softmax or log-softmax tensor is kept or materialised in the forward.
//   UnlearnRmsNorm      x [n, d], weight [d] (attr eps) -> y = x·r·w, r = 1/√(mean(x²) + ε) [n] (Zhang & Sennrich 2019)
//                       backward: dx = r·(dy⊙w) − x·r³·⟨dy⊙w, x⟩/d, dw = Σ_n dy⊙x·r
//   UnlearnRope         x [rows, heads·d], cos, sin [rows, (1,) d] (attr heads) -> rotate-half RoPE (Su et al. 2021)
//                       backward: the transposed rotation (the rotation by −θ when both halves of cos/sin agree)
//   UnlearnSwiGlu       gate, up (same shape) -> silu(gate)·up (Shazeer 2020)
//                       backward: dgate = dy·up·σ(g)·(1 + g·(1 − σ(g))), dup = dy·silu(g)
//   UnlearnLayerNorm    x [n, d], gamma, beta [d] (attr eps) -> y = (x − μ)·r·γ + β, μ, r = 1/√(var + ε) [n] (Ba et al. 2016)
//                       backward: dx = r·(dy⊙γ − mean(dy⊙γ) − x̂·mean(dy⊙γ⊙x̂)), dγ = Σ_n dy⊙x̂, dβ = Σ_n dy
//   UnlearnGeluTanh     x -> x·½(1 + tanh(√(2/π)(x + 0.044715x³))) (GPT-2's gelu_new); backward from the saved x
//   UnlearnCausalSoftmax scores [..., tq, tk] (attr scale > 0) -> softmax(scale·s) over the causal keys j ≤ i + tk − tq,
//                       0 above: scale, −∞ mask and softmax in one pass; backward ds = scale·p⊙(dp − ⟨dp, p⟩) from p
//   UnlearnCausalAttention q [B,H,tq,d], k, v [B,G,tk,d], bias [B,1,tq,tk] or [0] (none) (attr scale) ->
//                       o = softmax(scale·q·kᵀ + bias, causal)·v, stats [B,H,tq,2] = (max, 1/sum) (FlashAttention-2, Dao 2023: online
//                       softmax over key tiles, no tq×tk tensor); backward recomputes P from q, k and stats
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from '../addon.js';
import { allocOutput, floatValues, output, sizeOf } from './shared.js';

export const FUSED_KERNEL_NAMES = {
  pickLogProb: 'UnlearnPickLogProb', pickLogProbGrad: 'UnlearnPickLogProbGrad',
  rmsNorm: 'UnlearnRmsNorm', rmsNormGrad: 'UnlearnRmsNormGrad', rope: 'UnlearnRope', ropeGrad: 'UnlearnRopeGrad', swiglu: 'UnlearnSwiGlu', swigluGrad: 'UnlearnSwiGluGrad',
  layerNorm: 'UnlearnLayerNorm', layerNormGrad: 'UnlearnLayerNormGrad', gelu: 'UnlearnGeluTanh', geluGrad: 'UnlearnGeluTanhGrad',
  causalSoftmax: 'UnlearnCausalSoftmax', causalSoftmaxGrad: 'UnlearnCausalSoftmaxGrad',
  causalAttention: 'UnlearnCausalAttention', causalAttentionGrad: 'UnlearnCausalAttentionGrad',
} as const;

function floats(backend: MathBackendCPU, t: TensorInfo, kernel: string, what: string): Float32Array {
  const v = floatValues(backend, t);
  if (!v) throw new Error(`${kernel}: ${what} must be float32 (got ${t.dtype})`);
  return v;
}

function int32s(backend: MathBackendCPU, t: TensorInfo, kernel: string, what: string): Int32Array {
  const v = backend.data.get(t.dataId).values;
  if (t.dtype !== 'int32' || !(v instanceof Int32Array)) throw new Error(`${kernel}: ${what} must be int32 (got ${t.dtype})`);
  return v;
}

function rowsCols(t: TensorInfo, kernel: string, what: string): [number, number] {
  if (t.shape.length < 1) throw new Error(`${kernel}: ${what} must have rank ≥ 1 (got shape [${t.shape}])`);
  const cols = t.shape[t.shape.length - 1];
  return [cols === 0 ? 0 : sizeOf(t.shape) / cols, cols];
}

export function fusedKernels(addon: NativeAddon): KernelConfig[] {
  const N = FUSED_KERNEL_NAMES;
  const k = (kernelName: string, f: (inputs: Record<string, TensorInfo>, backend: MathBackendCPU, attrs: Record<string, unknown>) => TensorInfo | TensorInfo[]): KernelConfig => ({
    kernelName, backendName: 'native',
    kernelFunc: ({ inputs, backend, attrs }) => f(inputs as Record<string, TensorInfo>, backend as MathBackendCPU, (attrs ?? {}) as Record<string, unknown>),
  });
  return [
    k(N.pickLogProb, ({ logits, labels }, backend) => {
      const [n, v] = rowsCols(logits, N.pickLogProb, 'logits');
      if (labels.shape.length !== 1 || labels.shape[0] !== n) {
        throw new Error(`${N.pickLogProb}: labels shape [${labels.shape}] does not match logits [${logits.shape}] (expected [${n}])`);
      }
      const picked = allocOutput(backend, n), lse = allocOutput(backend, n);
      addon.pickLogProb(floats(backend, logits, N.pickLogProb, 'logits'), int32s(backend, labels, N.pickLogProb, 'labels'), n, v, picked, lse);
      return [output(backend, [n], picked), output(backend, [n], lse)];
    }),
    k(N.pickLogProbGrad, ({ logits, labels, lse, dy }, backend) => {
      const [n, v] = rowsCols(logits, N.pickLogProbGrad, 'logits');
      const dx = allocOutput(backend, n * v);
      addon.pickLogProbGrad(floats(backend, logits, N.pickLogProbGrad, 'logits'), int32s(backend, labels, N.pickLogProbGrad, 'labels'),
        floats(backend, lse, N.pickLogProbGrad, 'lse'), floats(backend, dy, N.pickLogProbGrad, 'dy'), n, v, dx);
      return output(backend, logits.shape.slice(), dx);
    }),
    k(N.rmsNorm, ({ x, weight }, backend, attrs) => {
      const [n, d] = rowsCols(x, N.rmsNorm, 'x');
      if (weight.shape.length !== 1 || weight.shape[0] !== d) throw new Error(`${N.rmsNorm}: weight shape [${weight.shape}] does not match x [${x.shape}] (expected [${d}])`);
      const y = allocOutput(backend, n * d), rstd = allocOutput(backend, n);
      addon.rmsNorm(floats(backend, x, N.rmsNorm, 'x'), floats(backend, weight, N.rmsNorm, 'weight'), n, d, attrs.eps as number, y, rstd);
      return [output(backend, x.shape.slice(), y), output(backend, [n], rstd)];
    }),
    k(N.rmsNormGrad, ({ x, weight, rstd, dy }, backend) => {
      const [n, d] = rowsCols(x, N.rmsNormGrad, 'x');
      const dx = allocOutput(backend, n * d), dw = allocOutput(backend, d);
      addon.rmsNormGrad(floats(backend, x, N.rmsNormGrad, 'x'), floats(backend, weight, N.rmsNormGrad, 'weight'),
        floats(backend, rstd, N.rmsNormGrad, 'rstd'), floats(backend, dy, N.rmsNormGrad, 'dy'), n, d, dx, dw);
      return [output(backend, x.shape.slice(), dx), output(backend, [d], dw)];
    }),
    ...([[N.rope, 1], [N.ropeGrad, -1]] as const).map(([name, sign]) => k(name, (inputs, backend, attrs) => {
      const x = sign === 1 ? inputs.x : inputs.dy;
      const { cos, sin } = inputs;
      const heads = attrs.heads as number;
      const [rows, width] = rowsCols(x, name, 'x');
      const d = width / heads;
      if (x.shape.length !== 2 || !Number.isInteger(d) || d % 2 !== 0) throw new Error(`${name}: x [${x.shape}] is not [rows, ${heads} heads × even head_dim]`);
      if (sizeOf(cos.shape) !== rows * d || sizeOf(sin.shape) !== rows * d) throw new Error(`${name}: cos [${cos.shape}] / sin [${sin.shape}] are not [${rows}, ${d}]`);
      const y = allocOutput(backend, rows * width);
      addon.rope(floats(backend, x, name, 'x'), floats(backend, cos, name, 'cos'), floats(backend, sin, name, 'sin'), rows, heads, d, sign, y);
      return output(backend, x.shape.slice(), y);
    })),
    k(N.swiglu, ({ gate, up }, backend) => {
      if (!tf.util.arraysEqual(gate.shape, up.shape)) throw new Error(`${N.swiglu}: gate [${gate.shape}] and up [${up.shape}] differ in shape`);
      const y = allocOutput(backend, sizeOf(gate.shape));
      addon.swiglu(floats(backend, gate, N.swiglu, 'gate'), floats(backend, up, N.swiglu, 'up'), y);
      return output(backend, gate.shape.slice(), y);
    }),
    k(N.swigluGrad, ({ gate, up, dy }, backend) => {
      const n = sizeOf(gate.shape);
      const dg = allocOutput(backend, n), du = allocOutput(backend, n);
      addon.swigluGrad(floats(backend, gate, N.swigluGrad, 'gate'), floats(backend, up, N.swigluGrad, 'up'),
        floats(backend, dy, N.swigluGrad, 'dy'), dg, du);
      return [output(backend, gate.shape.slice(), dg), output(backend, gate.shape.slice(), du)];
    }),
    k(N.layerNorm, ({ x, gamma, beta }, backend, attrs) => {
      const [n, d] = rowsCols(x, N.layerNorm, 'x');
      for (const [t, what] of [[gamma, 'gamma'], [beta, 'beta']] as const) {
        if (t.shape.length !== 1 || t.shape[0] !== d) throw new Error(`${N.layerNorm}: ${what} shape [${t.shape}] does not match x [${x.shape}] (expected [${d}])`);
      }
      const y = allocOutput(backend, n * d), mean = allocOutput(backend, n), rstd = allocOutput(backend, n);
      addon.layerNorm(floats(backend, x, N.layerNorm, 'x'), floats(backend, gamma, N.layerNorm, 'gamma'), floats(backend, beta, N.layerNorm, 'beta'),
        n, d, attrs.eps as number, y, mean, rstd);
      return [output(backend, x.shape.slice(), y), output(backend, [n], mean), output(backend, [n], rstd)];
    }),
    k(N.layerNormGrad, ({ x, gamma, mean, rstd, dy }, backend) => {
      const [n, d] = rowsCols(x, N.layerNormGrad, 'x');
      const dx = allocOutput(backend, n * d), dg = allocOutput(backend, d), db = allocOutput(backend, d);
      const f = (t: TensorInfo, what: string) => floats(backend, t, N.layerNormGrad, what);
      addon.layerNormGrad(f(x, 'x'), f(gamma, 'gamma'), f(mean, 'mean'), f(rstd, 'rstd'), f(dy, 'dy'), n, d, dx, dg, db);
      return [output(backend, x.shape.slice(), dx), output(backend, [d], dg), output(backend, [d], db)];
    }),
    k(N.gelu, ({ x }, backend) => {
      const y = allocOutput(backend, sizeOf(x.shape));
      addon.geluTanh(floats(backend, x, N.gelu, 'x'), y);
      return output(backend, x.shape.slice(), y);
    }),
    k(N.geluGrad, ({ x, dy }, backend) => {
      if (!tf.util.arraysEqual(x.shape, dy.shape)) throw new Error(`${N.geluGrad}: x [${x.shape}] and dy [${dy.shape}] differ in shape`);
      const dx = allocOutput(backend, sizeOf(x.shape));
      addon.geluTanhGrad(floats(backend, x, N.geluGrad, 'x'), floats(backend, dy, N.geluGrad, 'dy'), dx);
      return output(backend, x.shape.slice(), dx);
    }),
    k(N.causalSoftmax, ({ scores }, backend, attrs) => {
      const scale = attrs.scale as number;
      if (scores.shape.length < 2 || !(scale > 0)) throw new Error(`${N.causalSoftmax}: scores [${scores.shape}] must be [..., tq, tk] and scale > 0 (got ${scale})`);
      const [tq, tk] = scores.shape.slice(-2);
      const rows = sizeOf(scores.shape.slice(0, -1));
      const p = allocOutput(backend, rows * tk);
      addon.causalSoftmax(floats(backend, scores, N.causalSoftmax, 'scores'), rows, tq, tk, scale, p);
      return output(backend, scores.shape.slice(), p);
    }),
    k(N.causalSoftmaxGrad, ({ p, dy }, backend, attrs) => {
      const [rows, tk] = rowsCols(p, N.causalSoftmaxGrad, 'p');
      const ds = allocOutput(backend, rows * tk);
      addon.causalSoftmaxGrad(floats(backend, p, N.causalSoftmaxGrad, 'p'), floats(backend, dy, N.causalSoftmaxGrad, 'dy'), rows, tk, attrs.scale as number, ds);
      return output(backend, p.shape.slice(), ds);
    }),
    k(N.causalAttention, ({ q, k: key, v, bias }, backend, attrs) => {
      const a = attentionDims(q, key, v, bias, attrs, N.causalAttention);
      const o = allocOutput(backend, sizeOf(q.shape)), stats = allocOutput(backend, 2 * a.B * a.H * a.tq);
      addon.causalAttention(floats(backend, q, N.causalAttention, 'q'), floats(backend, key, N.causalAttention, 'k'), floats(backend, v, N.causalAttention, 'v'),
        a.hasBias ? floats(backend, bias, N.causalAttention, 'bias') : null, a.B, a.H, a.G, a.tq, a.tk, a.d, a.scale, o, stats);
      return [output(backend, q.shape.slice(), o), output(backend, [a.B, a.H, a.tq, 2], stats)];
    }),
    k(N.causalAttentionGrad, ({ q, k: key, v, bias, o, dy, stats }, backend, attrs) => {
      const a = attentionDims(q, key, v, bias, attrs, N.causalAttentionGrad);
      const f = (t: TensorInfo, what: string) => floats(backend, t, N.causalAttentionGrad, what);
      const dq = allocOutput(backend, sizeOf(q.shape)), dk = allocOutput(backend, sizeOf(key.shape)), dv = allocOutput(backend, sizeOf(v.shape));
      addon.causalAttentionGrad(f(q, 'q'), f(key, 'k'), f(v, 'v'), a.hasBias ? f(bias, 'bias') : null, f(o, 'o'), f(dy, 'dy'), f(stats, 'stats'),
        a.B, a.H, a.G, a.tq, a.tk, a.d, a.scale, dq, dk, dv);
      return [output(backend, q.shape.slice(), dq), output(backend, key.shape.slice(), dk), output(backend, v.shape.slice(), dv)];
    }),
  ];
}

function attentionDims(q: TensorInfo, k: TensorInfo, v: TensorInfo, bias: TensorInfo, attrs: Record<string, unknown>, kernel: string) {
  const scale = attrs.scale as number;
  const [B, H, tq, d] = q.shape;
  const G = k.shape[1], tk = k.shape[2];
  const hasBias = sizeOf(bias.shape) > 0;
  if (q.shape.length !== 4 || k.shape.length !== 4 || !tf.util.arraysEqual(k.shape, v.shape) || k.shape[0] !== B || k.shape[3] !== d
    || G === 0 || H % G !== 0 || tk < tq || !(scale > 0)
    || (hasBias && !tf.util.arraysEqual(bias.shape, [B, 1, tq, tk]))) {
    throw new Error(`${kernel}: q [${q.shape}], k [${k.shape}], v [${v.shape}], bias [${bias.shape}] must be [B,H,tq,d], [B,G,tk,d] ×2, [B,1,tq,tk] or [0], with H a multiple of G, tk ≥ tq, scale > 0 (got ${scale})`);
  }
  return { B, H, G, tq, tk, d, scale, hasBias };
}

const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown> = {}) =>
  tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as tf.NamedAttrMap);

export const fusedGradients: GradConfig[] = [
  {
    kernelName: FUSED_KERNEL_NAMES.pickLogProb, inputsToSave: ['logits', 'labels'], outputsToSave: [false, true],
    gradFunc: (dys, saved) => {
      const [logits, labels, lse] = saved;
      const dy = (dys as tf.Tensor[])[0]; // lse is an auxiliary output: its gradient is ignored
      return {
        logits: () => run(FUSED_KERNEL_NAMES.pickLogProbGrad, { logits, labels, lse, dy }) as tf.Tensor,
        labels: () => tf.zerosLike(labels),
      };
    },
  },
  {
    kernelName: FUSED_KERNEL_NAMES.rmsNorm, inputsToSave: ['x', 'weight'], outputsToSave: [false, true],
    gradFunc: (dys, saved) => {
      const [x, weight, rstd] = saved;
      const [dx, dw] = run(FUSED_KERNEL_NAMES.rmsNormGrad, { x, weight, rstd, dy: (dys as tf.Tensor[])[0] }) as tf.Tensor[];
      return { x: () => dx, weight: () => dw };
    },
  },
  {
    kernelName: FUSED_KERNEL_NAMES.rope, inputsToSave: ['cos', 'sin'],
    gradFunc: (dy, saved, attrs) => {
      const [cos, sin] = saved;
      return {
        x: () => run(FUSED_KERNEL_NAMES.ropeGrad, { dy: dy as tf.Tensor, cos, sin }, { heads: (attrs as { heads: number }).heads }) as tf.Tensor,
        cos: () => tf.zerosLike(cos), // position tables: constants
        sin: () => tf.zerosLike(sin),
      };
    },
  },
  {
    kernelName: FUSED_KERNEL_NAMES.swiglu, inputsToSave: ['gate', 'up'],
    gradFunc: (dy, saved) => {
      const [gate, up] = saved;
      const [dg, du] = run(FUSED_KERNEL_NAMES.swigluGrad, { gate, up, dy: dy as tf.Tensor }) as tf.Tensor[];
      return { gate: () => dg, up: () => du };
    },
  },
  {
    kernelName: FUSED_KERNEL_NAMES.layerNorm, inputsToSave: ['x', 'gamma'], outputsToSave: [false, true, true],
    gradFunc: (dys, saved) => {
      const [x, gamma, mean, rstd] = saved;
      const [dx, dg, db] = run(FUSED_KERNEL_NAMES.layerNormGrad, { x, gamma, mean, rstd, dy: (dys as tf.Tensor[])[0] }) as tf.Tensor[];
      return { x: () => dx, gamma: () => dg, beta: () => db };
    },
  },
  {
    kernelName: FUSED_KERNEL_NAMES.gelu, inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => run(FUSED_KERNEL_NAMES.geluGrad, { x: saved[0], dy: dy as tf.Tensor }) as tf.Tensor }),
  },
  {
    kernelName: FUSED_KERNEL_NAMES.causalSoftmax, outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => ({
      scores: () => run(FUSED_KERNEL_NAMES.causalSoftmaxGrad, { p: saved[0], dy: dy as tf.Tensor }, { scale: (attrs as { scale: number }).scale }) as tf.Tensor,
    }),
  },
  {
    kernelName: FUSED_KERNEL_NAMES.causalAttention, inputsToSave: ['q', 'k', 'v', 'bias'], outputsToSave: [true, true],
    gradFunc: (dys, saved, attrs) => {
      const [q, k, v, bias, o, stats] = saved;
      const [dq, dk, dv] = run(FUSED_KERNEL_NAMES.causalAttentionGrad, { q, k, v, bias, o, stats, dy: (dys as tf.Tensor[])[0] },
        { scale: (attrs as { scale: number }).scale }) as tf.Tensor[];
      return { q: () => dq, k: () => dk, v: () => dv, bias: () => tf.zerosLike(bias) }; // bias: a mask, constant
    },
  },
];

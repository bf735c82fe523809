// The reference benchmark model (../shared/reference/gpt_train_tfjs.mjs, twin of gpt_torch.py): a GPT-style decoder,
// vocab 4096, d 256, 4 layers, 4 heads, seq 128, batch 8 — on @unlearn/tensors' matmul and fused ops. Exposes the timed
// steps of steps.mjs (forward, fwdbwd, train) and a Sophia-G GNB Hessian estimate.
import { timedSteps } from './steps.mjs';

export const DEFAULT_CONFIG = { V: 4096, D: 256, L: 4, H: 4, T: 128, B: 8 };

export function buildGpt(tf, tensors, cfg = DEFAULT_CONFIG) {
  const { matmul } = tensors;
  const { V, D, L, H, T, B } = cfg;
  const HD = D / H, BT = B * T;
  let seed = 1;
  const vars = [];
  const P = (name, shape, kind) => {
    const init = kind === 'ones' ? tf.ones(shape) : kind === 'zeros' ? tf.zeros(shape)
      : tf.randomNormal(shape, 0, kind ?? 0.02, 'float32', seed++);
    const v = tf.variable(init, true, name);
    init.dispose();
    vars.push(v);
    return v;
  };
  const wte = P('wte', [V, D]);
  const wpe = P('wpe', [T, D], 0.01);
  const layers = [];
  for (let l = 0; l < L; l++) {
    const projStd = 0.02 / Math.sqrt(2 * L);
    layers.push({
      ln1g: P(`h${l}.ln1.g`, [D], 'ones'), ln1b: P(`h${l}.ln1.b`, [D], 'zeros'),
      wqkv: P(`h${l}.attn.wqkv`, [D, 3 * D]), bqkv: P(`h${l}.attn.bqkv`, [3 * D], 'zeros'),
      wo: P(`h${l}.attn.wo`, [D, D], projStd), bo: P(`h${l}.attn.bo`, [D], 'zeros'),
      ln2g: P(`h${l}.ln2.g`, [D], 'ones'), ln2b: P(`h${l}.ln2.b`, [D], 'zeros'),
      wfc: P(`h${l}.mlp.wfc`, [D, 4 * D]), bfc: P(`h${l}.mlp.bfc`, [4 * D], 'zeros'),
      wpr: P(`h${l}.mlp.wpr`, [4 * D, D], projStd), bpr: P(`h${l}.mlp.bpr`, [D], 'zeros'),
    });
  }
  const lnfg = P('lnf.g', [D], 'ones'), lnfb = P('lnf.b', [D], 'zeros');
  const nMatmul = L * (D * 3 * D + D * D + 2 * D * 4 * D) + V * D; // weights used in matmuls (tied LM head)
  const flopsPerToken = 6 * nMatmul + 12 * L * T * D; // PaLM-style 6N + 12·L·T·d (dense attention)

  // The fused ops of @unlearn/tensors (one kernel each way on native, composed tf ops elsewhere), as PyTorch's side
  // runs nn.LayerNorm, F.gelu(approximate='tanh'), softmax and F.cross_entropy: LayerNorm, tanh-GELU, the scaled
  // causal softmax (or the whole causal attention) and the label log-prob (no [tokens, vocab] one-hot or log-softmax tensor).
  const { layerNorm, geluTanh, causalSoftmax, pickLogProb } = tensors;
  const linear = (x, w, b) => tf.fused.matMul({ a: x, b: w, bias: b }); // bias in the gemm's epilogue (as nn.Linear's addmm)
  const heads = (t) => tf.reshape(tf.transpose(tf.reshape(t, [B, T, H, HD]), [0, 2, 1, 3]), [B * H, T, HD]);
  const attend = process.env.UNLEARN_NATIVE_ATTENTION === '0'
    ? (q, k, v) => matmul(causalSoftmax(matmul(heads(q), heads(k), false, true), 1 / Math.sqrt(HD)), heads(v))
    : (q, k, v) => {
      const h4 = (t) => tf.reshape(heads(t), [B, H, T, HD]);
      return tensors.causalAttention(h4(q), h4(k), h4(v), { scale: 1 / Math.sqrt(HD) });
    };

  function logits(xIds) { // xIds int32 [BT] -> [BT, V]
    let h = tf.reshape(tf.add(tf.reshape(tf.gather(wte, xIds), [B, T, D]), wpe), [BT, D]);
    for (const p of layers) {
      const a = layerNorm(h, p.ln1g, p.ln1b, 1e-5);
      const [q, k, v] = tf.split(linear(a, p.wqkv, p.bqkv), 3, 1);
      // fused causal attention (FlashAttention-2 kernel on native); UNLEARN_NATIVE_ATTENTION=0 keeps the previous
      // QKᵀ → fused causal softmax → ·V path (results-attention-before.md)
      const o = attend(q, k, v);
      const o2 = tf.reshape(tf.transpose(tf.reshape(o, [B, H, T, HD]), [0, 2, 1, 3]), [BT, D]);
      h = tf.add(h, linear(o2, p.wo, p.bo));
      const m = layerNorm(h, p.ln2g, p.ln2b, 1e-5);
      h = tf.add(h, linear(geluTanh(linear(m, p.wfc, p.bfc)), p.wpr, p.bpr));
    }
    return matmul(layerNorm(h, lnfg, lnfb, 1e-5), wte, false, true);
  }
  const xent = (lg, labels) => tf.neg(tf.mean(pickLogProb(lg, labels)));
  const xIds = tf.randomUniform([BT], 0, V, 'int32', 123);
  const yIds = tf.randomUniform([BT], 0, V, 'int32', 456);
  const steps = timedSteps(tf, { vars, loss: () => xent(logits(xIds), yIds), lr: 1e-3, weightDecay: 0.1 });
  // Sophia-G labels ŷ ~ softmax(logits): Multinomial's gradient is zero (@unlearn/tensors), so no stopGradient is needed
  const hess = vars.map((v) => tf.variable(tf.zerosLike(v), false));

  return {
    ...steps, vars, flopsPerToken, BT, nParams: vars.reduce((s, v) => s + v.size, 0),
    /** Sophia-G Gauss-Newton-Bartlett estimate: labels ŷ ~ softmax(logits), g = ∇CE(logits, ŷ), h ← .99h + .01·BT·g². */
    async sophiaGnb() {
      const { value, grads } = tf.variableGrads(() => {
        const lg = logits(xIds);
        return xent(lg, tf.reshape(tf.multinomial(lg, 1, 7), [BT]));
      }, vars);
      tf.tidy(() => vars.forEach((v, i) => {
        const g = grads[v.name];
        hess[i].assign(tf.add(tf.mul(hess[i], 0.99), tf.mul(tf.square(g), 0.01 * BT)));
      }));
      const out = (await value.data())[0];
      await hess[hess.length - 1].data();
      tf.dispose(grads);
      value.dispose();
      return out;
    },
    dispose() {
      steps.dispose();
      tf.dispose([...vars, ...hess, xIds, yIds]);
    },
  };
}

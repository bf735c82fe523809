// The reference benchmark model (../shared/reference/gpt_train_tfjs.mjs, twin of gpt_torch.py): a GPT-style decoder,
// vocab 4096, d 256, 4 layers, 4 heads, seq 128, batch 8 — ported onto @unlearn/tensors' transpose-free `matmul`.
// Exposes the three timed steps: forward (loss only), train (fwd + CE + bwd + AdamW), Sophia-G GNB Hessian estimate.

export const DEFAULT_CONFIG = { V: 4096, D: 256, L: 4, H: 4, T: 128, B: 8 };

export function buildGpt(tf, { matmul }, cfg = DEFAULT_CONFIG) {
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

  const layerNorm = (x, g, b) => {
    const mean = tf.mean(x, -1, true);
    const xc = tf.sub(x, mean);
    const variance = tf.mean(tf.square(xc), -1, true);
    return tf.add(tf.mul(tf.mul(xc, tf.rsqrt(tf.add(variance, 1e-5))), g), b);
  };
  const gelu = (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(
    tf.add(x, tf.mul(tf.mul(tf.mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI)))));
  const causalMask = tf.tidy(() => tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)), -1e9));
  const heads = (t) => tf.reshape(tf.transpose(tf.reshape(t, [B, T, H, HD]), [0, 2, 1, 3]), [B * H, T, HD]);

  function logits(xIds) { // xIds int32 [BT] -> [BT, V]
    let h = tf.reshape(tf.add(tf.reshape(tf.gather(wte, xIds), [B, T, D]), wpe), [BT, D]);
    for (const p of layers) {
      const a = layerNorm(h, p.ln1g, p.ln1b);
      const qkv = tf.add(matmul(a, p.wqkv), p.bqkv);
      const [q, k, v] = tf.split(qkv, 3, 1);
      const s = tf.add(tf.mul(matmul(heads(q), heads(k), false, true), 1 / Math.sqrt(HD)), causalMask);
      const o = matmul(tf.softmax(s), heads(v));
      const o2 = tf.reshape(tf.transpose(tf.reshape(o, [B, H, T, HD]), [0, 2, 1, 3]), [BT, D]);
      h = tf.add(h, tf.add(matmul(o2, p.wo), p.bo));
      const m = layerNorm(h, p.ln2g, p.ln2b);
      h = tf.add(h, tf.add(matmul(gelu(tf.add(matmul(m, p.wfc), p.bfc)), p.wpr), p.bpr));
    }
    return matmul(layerNorm(h, lnfg, lnfb), wte, false, true);
  }
  const xentOneHot = (lg, oneHot) => tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(lg)), -1)));
  const loss = (xIds, yIds) => xentOneHot(logits(xIds), tf.oneHot(yIds, V));
  // Sophia-G labels: sampled from the model's own softmax inside a customGrad with zero gradient (tfjs has no
  // stopGradient, and Multinomial has no gradient).
  const sampleOneHot = tf.customGrad((lg) => ({
    value: tf.oneHot(tf.reshape(tf.multinomial(lg, 1, 7), [BT]), V),
    gradFunc: () => tf.zerosLike(lg),
  }));

  const xIds = tf.randomUniform([BT], 0, V, 'int32', 123);
  const yIds = tf.randomUniform([BT], 0, V, 'int32', 456);
  const zeros = () => vars.map((v) => tf.variable(tf.zerosLike(v), false));
  const m1 = zeros(), m2 = zeros(), hess = zeros();
  let t = 0;

  // AdamW from tf ops (what any backend runs): decoupled decay on rank ≥ 2 tensors (nanoGPT), bias correction.
  function adamwOps(grads, lr = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.1) {
    t++;
    const bc1 = 1 - b1 ** t, bc2 = 1 - b2 ** t;
    tf.tidy(() => vars.forEach((p, i) => {
      const g = grads[p.name];
      const m = tf.add(tf.mul(m1[i], b1), tf.mul(g, 1 - b1));
      const v = tf.add(tf.mul(m2[i], b2), tf.mul(tf.square(g), 1 - b2));
      m1[i].assign(m);
      m2[i].assign(v);
      const update = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), eps));
      const decayed = p.rank >= 2 ? tf.mul(p, 1 - lr * wd) : p;
      p.assign(tf.sub(decayed, tf.mul(update, lr)));
    }));
  }

  return {
    vars, flopsPerToken, BT, nParams: vars.reduce((s, v) => s + v.size, 0),
    async forward() {
      const l = tf.tidy(() => loss(xIds, yIds));
      const value = (await l.data())[0];
      l.dispose();
      return value;
    },
    /** fwd + CE + bwd (gradients computed and dropped). */
    async fwdbwd() {
      const { value, grads } = tf.variableGrads(() => loss(xIds, yIds), vars);
      const out = (await value.data())[0];
      await grads[vars[0].name].data();
      tf.dispose(grads);
      value.dispose();
      return out;
    },
    /** fwd + CE + bwd + AdamW; `fused(p, g, m, v, step)` replaces the tf-op AdamW when given. */
    async train(fused) {
      const { value, grads } = tf.variableGrads(() => loss(xIds, yIds), vars);
      if (fused) {
        t++;
        vars.forEach((p, i) => fused(p, grads[p.name], m1[i], m2[i], t, p.rank >= 2 ? 0.1 : 0));
      } else {
        adamwOps(grads);
      }
      const out = (await value.data())[0];
      await vars[vars.length - 1].data();
      tf.dispose(grads);
      value.dispose();
      return out;
    },
    /** Sophia-G Gauss-Newton-Bartlett estimate: labels ŷ ~ softmax(logits), g = ∇CE(logits, ŷ), h ← .99h + .01·BT·g². */
    async sophiaGnb() {
      const { value, grads } = tf.variableGrads(() => {
        const lg = logits(xIds);
        return xentOneHot(lg, sampleOneHot(lg));
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
      tf.dispose([...vars, ...m1, ...m2, ...hess, causalMask, xIds, yIds]);
    },
  };
}

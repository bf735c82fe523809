// The timed steps every bench model exposes (gpt.mjs, llama.mjs): forward (loss only), fwdbwd (loss + every gradient),
// train (fwdbwd + AdamW from tf ops, decoupled decay on rank ≥ 2 tensors, bias correction — what any backend runs) and
// train(fused) (fwdbwd + the addon's one-pass AdamW). `loss` is a function of no arguments returning a scalar.
export function timedSteps(tf, { vars, loss, lr, weightDecay }) {
  const zeros = () => vars.map((v) => tf.variable(tf.zerosLike(v), false));
  const m1 = zeros(), m2 = zeros();
  const decayOf = (p) => (p.rank >= 2 ? weightDecay : 0);
  let t = 0;
  function adamwOps(grads, b1 = 0.9, b2 = 0.999, eps = 1e-8) {
    t++;
    const bc1 = 1 - b1 ** t, bc2 = 1 - b2 ** t;
    tf.tidy(() => vars.forEach((p, i) => {
      const g = grads[p.name];
      const m = tf.add(tf.mul(m1[i], b1), tf.mul(g, 1 - b1));
      const v = tf.add(tf.mul(m2[i], b2), tf.mul(tf.square(g), 1 - b2));
      m1[i].assign(m);
      m2[i].assign(v);
      const update = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), eps));
      const decayed = decayOf(p) ? tf.mul(p, 1 - lr * decayOf(p)) : p;
      p.assign(tf.sub(decayed, tf.mul(update, lr)));
    }));
  }
  return {
    async forward() {
      const l = tf.tidy(loss);
      const value = (await l.data())[0];
      l.dispose();
      return value;
    },
    async fwdbwd() {
      const { value, grads } = tf.variableGrads(loss, vars);
      const out = (await value.data())[0];
      await grads[vars[0].name].data();
      tf.dispose(grads);
      value.dispose();
      return out;
    },
    /** `fused(p, g, m, v, step, weightDecay, lr)` replaces the tf-op AdamW when given. */
    async train(fused) {
      const { value, grads } = tf.variableGrads(loss, vars);
      if (fused) {
        t++;
        vars.forEach((p, i) => fused(p, grads[p.name], m1[i], m2[i], t, decayOf(p), lr));
      } else {
        adamwOps(grads);
      }
      const out = (await value.data())[0];
      await vars[vars.length - 1].data();
      tf.dispose(grads);
      value.dispose();
      return out;
    },
    dispose() {
      tf.dispose([...m1, ...m2]);
    },
  };
}

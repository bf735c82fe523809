// A Llama from @unlearn/models (random init, HF names and math: RMSNorm, RoPE, GQA, SwiGLU, tied head) with the
// same timed steps as gpt.mjs: forward (loss only), fwdbwd (loss + gradients), train (fwd + CE + bwd + AdamW from tf
// ops, decay on rank ≥ 2) and train with a fused AdamW. Loss: @unlearn/objectives' batchNll (next-token NLL).
export function buildLlama(tf, { models, objectives }, config, { batch, seq }) {
  const model = models.createModel(config, { seed: 0 });
  const vars = [...model.params.values()].filter((v) => v.trainable);
  const V = config.vocab_size;
  const ids = tf.tidy(() => tf.cast(tf.mul(tf.randomUniform([batch, seq], 0, 1, 'float32', 7), V - 1), 'int32'));
  const tokenBatch = { inputIds: ids, attentionMask: tf.onesLike(ids), labels: tf.clone(ids) };
  const loss = () => objectives.batchNll(model, tokenBatch);
  const zeros = () => vars.map((v) => tf.variable(tf.zerosLike(v), false));
  const m1 = zeros(), m2 = zeros();
  let t = 0;
  function adamwOps(grads, lr = 1e-4, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.01) {
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
    vars, BT: batch * seq, nParams: vars.reduce((s, v) => s + v.size, 0),
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
    async train(fused) {
      const { value, grads } = tf.variableGrads(loss, vars);
      if (fused) {
        t++;
        vars.forEach((p, i) => fused(p, grads[p.name], m1[i], m2[i], t, p.rank >= 2 ? 0.01 : 0, 1e-4));
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
      tf.dispose([...m1, ...m2, ids, tokenBatch.attentionMask, tokenBatch.labels]);
      model.dispose();
    },
  };
}

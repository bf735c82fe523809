// A Llama from @unlearn/models (random init, HF names and math: RMSNorm, RoPE, GQA, SwiGLU, tied head) with the
// timed steps of steps.mjs. Loss: @unlearn/objectives' batchNll (next-token NLL).
import { timedSteps } from './steps.mjs';

export function buildLlama(tf, { models, objectives }, config, { batch, seq }) {
  const model = models.createModel(config, { seed: 0 });
  const vars = [...model.params.values()].filter((v) => v.trainable);
  const V = config.vocab_size;
  const ids = tf.tidy(() => tf.cast(tf.mul(tf.randomUniform([batch, seq], 0, 1, 'float32', 7), V - 1), 'int32'));
  const tokenBatch = { inputIds: ids, attentionMask: tf.onesLike(ids), labels: tf.clone(ids) };
  const steps = timedSteps(tf, { vars, loss: () => objectives.batchNll(model, tokenBatch), lr: 1e-4, weightDecay: 0.01 });
  return {
    ...steps, vars, BT: batch * seq, nParams: vars.reduce((s, v) => s + v.size, 0),
    dispose() {
      steps.dispose();
      tf.dispose([ids, tokenBatch.attentionMask, tokenBatch.labels]);
      model.dispose();
    },
  };
}

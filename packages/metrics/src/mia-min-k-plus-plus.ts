// Min-K%++ membership-inference attack (Zhang et al. 2024, eq. 3): each token's log-probability is standardised
// against the model's next-token distribution at that position,
//   z_t = (log p(x_t) − μ_t) / σ_t,  μ_t = E_{v~p}[log p(v)],  σ_t² = E_{v~p}[(log p(v))²] − μ_t²,
// and the score is the negated mean of the lowest k-fraction of z_t. open-unlearning `MinKPlusPlusAttack` clamps
// σ² at 1e-6 and scores an empty answer 0; TOFU's configuration uses k = 0.4.
import { lowestMean, MIN_K_DEFAULT } from './mia-min-k.js';

/**
 * @param tokenLogProbs log p(x_t) of each scored token
 * @param vocabMeans    μ_t for the same positions
 * @param vocabVariances σ_t² (before the 1e-6 clamp) for the same positions
 */
export function minKPlusPlusScore(
  tokenLogProbs: ArrayLike<number>,
  vocabMeans: ArrayLike<number>,
  vocabVariances: ArrayLike<number>,
  k = MIN_K_DEFAULT,
): number {
  if (!(k > 0 && k <= 1)) throw new Error(`minKPlusPlusScore: k must be in (0, 1], got ${k}`);
  const n = tokenLogProbs.length;
  if (vocabMeans.length !== n || vocabVariances.length !== n) {
    throw new Error(`minKPlusPlusScore: ${n} token log-probs but ${vocabMeans.length} means and ${vocabVariances.length} variances`);
  }
  if (n === 0) return 0;
  const z = new Float64Array(n);
  for (let t = 0; t < n; t++) z[t] = (tokenLogProbs[t] - vocabMeans[t]) / Math.sqrt(Math.max(vocabVariances[t], 1e-6));
  return -lowestMean(z, k);
}

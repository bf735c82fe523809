// @unlearn/metrics — TOFU evaluation (probability, truth ratio, ROUGE, forget quality, model utility), membership
// inference (LOSS, ZLib, Min-K%, Min-K%++) with AUC and privleak, extraction strength, exact memorization, perplexity.
export { ksTwoSample } from './ks-two-sample.js';
export type { KsAlternative, KsMethod, KsResult } from './ks-two-sample.js';
export { kolmogorovSf } from './kolmogorov-distribution.js';
export { rocAuc } from './roc-auc.js';
export { porterStem } from './porter-stemmer.js';
export { rougeScores, rougeTokenize } from './rouge.js';
export type { RougeScore, RougeScores } from './rouge.js';
export { truthRatio, aggregateTruthRatios } from './truth-ratio.js';
export type { TruthRatioAggregator } from './truth-ratio.js';
export { forgetQuality } from './forget-quality.js';
export { harmonicMean, modelUtility } from './model-utility.js';
export type { ModelUtilityInputs } from './model-utility.js';
export { privleak } from './privleak.js';
export { lossScore } from './mia-loss.js';
export { zlibScore, zlibCompressedLength } from './mia-zlib.js';
export { minKScore, MIN_K_DEFAULT } from './mia-min-k.js';
export { minKPlusPlusScore } from './mia-min-k-plus-plus.js';
export { extractionStrength } from './extraction-strength.js';
export { exactMemorization } from './exact-memorization.js';
export { answerLogProbs, answerStatsFromLogits, optionNormalisedProbs } from './answer-log-probs.js';
export type { AnswerStats, AnswerStatsOptions } from './answer-log-probs.js';
export { perplexity } from './perplexity.js';
export { tofuSuite } from './tofu-suite.js';
export type { TofuSuiteOptions, TofuSuiteResult, MetricResult } from './tofu-suite.js';

// @unlearn/robustness — does forgetting survive? Weight quantizers (int8 absmax per channel, 4-bit round-to-nearest
// per group, NF4) as round trips on a model's weights, prompt attacks on the forget questions, the relearning plan,
// and OpenUnlearning's robustness scores Q (quantization), R (relearning) and HM(Q, R). The attacks that need a
// training loop or a run folder (`unlearn attack relearn|quantize|prefix`) are run by @unlearn/pipeline's `attack`.
export { roundHalfEven } from './round-half-even.js';
export type { WeightMatrix, QuantizedWeight } from './quantized-weight.js';
export { quantizeInt8Absmax } from './int8-absmax.js';
export { quantizeInt4Absmax } from './int4-absmax.js';
export type { Int4Options } from './int4-absmax.js';
export { quantizeNf4, nearestNf4, NF4_CODE_BOOK } from './nf4.js';
export type { Nf4Options } from './nf4.js';
export { quantizeWeight, quantizeParams, quantizableParams, quantizerLabel } from './quantize-params.js';
export type { QuantizerSpec, QuantizeReport } from './quantize-params.js';
export { quantizationScore } from './quantization-score.js';
export { relearningScore, robustnessScore } from './relearning-score.js';
export type { RelearnDelta } from './relearning-score.js';
export { seededSlice, relearnCheckpoints } from './relearn-plan.js';
export type { RelearnSet } from './relearn-plan.js';
export { PROMPT_ATTACKS, promptAttack, answerPrefixAttack, wrapperAttack, applyPromptAttack } from './prompt-attacks.js';
export type { PromptAttack, AttackRow } from './prompt-attacks.js';
export { evaluatePromptAttack } from './prompt-attack-eval.js';
export type { PromptAttackResult, PromptAttackEvalOptions } from './prompt-attack-eval.js';

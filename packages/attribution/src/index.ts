// @unlearn/attribution: which weights may change during unlearning. Each builder returns a core `Mask`
// (parameter name → 0/1 float tensor) keeping a `keep` fraction of entries ranked globally; registered by name.
import './register.js';

export { wagle, wagleOptions } from './wagle.js';
export type { WagleOptions } from './wagle.js';
export { salun, salunOptions } from './salun.js';
export type { SalunOptions } from './salun.js';
export { magnitude, magnitudeOptions } from './magnitude.js';
export type { MagnitudeOptions } from './magnitude.js';
export { random, randomOptions } from './random.js';
export type { RandomOptions } from './random.js';

export { saveMask, loadMask, validateMask, summarizeMask, MASK_FORMAT } from './mask-io.js';
export type { MaskSummary } from './mask-io.js';
export { maskFromScores, scoredMaskBuilder } from './score-mask.js';
export type { ScoredMaskBuilder } from './score-mask.js';
export { selectTopK, kthLargest, keepCount } from './global-top-k.js';
export { summedLossGradients } from './loss-gradients.js';

// @unlearn/core — the spec package: versioned interfaces, typed registries (with parseOptions for factory options)
// and the one labels module (IGNORE_INDEX, the HF label shift, token log-probs, cross-entropy, loss-token counts).
export * from './interfaces.js';
export { register, get, list, unregister, checkSpecification, parseOptions } from './registry.js';
export type { RegistryKind, RegistryKinds, OptionsSchema, OptionsIssue } from './registry.js';
export {
  IGNORE_INDEX, shiftLabels, tokenLogProbs, tokenCounts, sequenceLogProb, meanSequenceLogProb, meanNll, batchNll, lossTokens,
  isLabelled, weightedCrossEntropy,
} from './labels.js';
export type { TokenLogProbs } from './labels.js';

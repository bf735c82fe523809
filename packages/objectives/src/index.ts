// @unlearn/objectives: unlearning losses to MINIMISE, each a core `Objective`, registered by name on import.
import './register.js';

export { ga, gaOptions } from './ga.js';
export type { GaOptions } from './ga.js';
export { graddiff, graddiffOptions } from './graddiff.js';
export type { GraddiffOptions } from './graddiff.js';
export { kl, klOptions } from './kl.js';
export type { KlOptions } from './kl.js';
export { npo, npoOptions } from './npo.js';
export type { NpoOptions } from './npo.js';
export { simnpo, simnpoOptions } from './simnpo.js';
export type { SimnpoOptions } from './simnpo.js';
export { idk, idkOptions } from './idk.js';
export type { IdkOptions } from './idk.js';
export { idkdpo, idkdpoOptions } from './idkdpo.js';
export type { IdkdpoOptions } from './idkdpo.js';
export { rmu, rmuOptions, rmuDirection } from './rmu.js';
export type { RmuOptions } from './rmu.js';

// Building blocks for your own objective (see README: a custom objective in ~30 lines).
export { defineObjective, batchNll, referenceLogits, checkNeeds } from './define-objective.js';
export type { ObjectiveSpec, Term, TermContext, TermResult, TermCurvature } from './define-objective.js';
export { sampledGaussNewtonLoss, tokenMeanTerm, rowWeightedTerm, klTerm, scaleTerm, shiftedPositions } from './gauss-newton.js';
export type { GaussNewtonTerm } from './gauss-newton.js';
// The label conventions (token log-probs, NLL, IGNORE_INDEX) live in @unlearn/core; re-exported for objective authors.
export { tokenLogProbs, tokenCounts, sequenceLogProb, meanSequenceLogProb, meanNll, IGNORE_INDEX } from '@unlearn/core';
export type { TokenLogProbs } from '@unlearn/core';
export { klToReference } from './kl-divergence.js';
export { detach } from './detach.js';
export { parseOptions } from '@unlearn/core';

// @unlearn/optim: optimizers for unlearning, each a core `Optimizer` registered by name on import —
// sgd, adamw, sophia (gnb | fisher | hutchinson), influence (woodfisher | cg), zo-sgd, zo-adam, zo-sign-sgd —
// plus learning-rate schedules and global-norm clipping.
import './register.js';

export { sgd, sgdOptions } from './sgd.js';
export type { SgdOptions } from './sgd.js';
export { adamw, adamwOptions } from './adamw.js';
export type { AdamwOptions } from './adamw.js';
export { sophia, sophiaOptions, gnbEstimator, fisherEstimator, hutchinsonEstimator, rademacher, calibratedRho, SOPHIA_PRESETS } from './sophia.js';
export type { SophiaOptions, HessianEstimator, HessianEstimatorInput } from './sophia.js';
export { influence, influenceOptions } from './influence.js';
export type { InfluenceOptions } from './influence.js';
export { woodfisherSolve } from './woodfisher.js';
export { exampleSetCurvature } from './example-set-curvature.js';
export type { ExampleSetOptions } from './example-set-curvature.js';
export { conjugateGradient } from './conjugate-gradient.js';
export type { CgResult } from './conjugate-gradient.js';
export { zoSgd, zoSgdOptions } from './zo-sgd.js';
export type { ZoSgdOptions } from './zo-sgd.js';
export { zoAdam, zoAdamOptions } from './zo-adam.js';
export type { ZoAdamOptions } from './zo-adam.js';
export { zoSignSgd, zoSignSgdOptions } from './zo-sign-sgd.js';
export type { ZoSignSgdOptions } from './zo-sign-sgd.js';
export { zerothOrderGradient } from './zeroth-order.js';
export { constantSchedule, linearSchedule, cosineSchedule } from './schedules.js';
export type { ConstantScheduleOptions, DecayingScheduleOptions } from './schedules.js';
export { clipByGlobalNorm, globalNorm } from './clipping.js';
export { parseOptions } from '@unlearn/core';

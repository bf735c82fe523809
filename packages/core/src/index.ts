export * from './interfaces.js';
export { register, get, list, unregister } from './registry.js';
export type { RegistryKind, RegistryKinds } from './registry.js';
export { Trainer, NonFiniteLossError, checkpointName } from './trainer.js';
export type { TrainerOptions, TrainResult, StepEvent, UnlearnData, CheckpointOptions } from './trainer.js';
export {
  createCurvatureProbe, finiteDifferenceHvp, gradientsOf, weightedCrossEntropy, shiftLabels, lossOf, inverseCdfSampler,
  IGNORE_INDEX, DEFAULT_FD_SCALE,
} from './curvature-probe.js';
export type { CurvatureProbeOptions, DisposableCurvatureProbe, LabelSampler } from './curvature-probe.js';
export { memoryCheckpointIO, directoryCheckpointIO, encodeTensors, decodeTensors } from './checkpoint.js';
export type { CheckpointIO } from './checkpoint.js';
export { seededRandom, deriveSeed, mulberry32 } from './seeded-random.js';
export type { SeededRandom } from './seeded-random.js';

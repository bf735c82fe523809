// @unlearn/train — the training loop of unlearn: the Trainer (unlearning with any Objective × Optimizer × Mask, and
// fine-tuning on NLL batches), the curvature probe second-order optimizers ask, and atomic, resumable checkpoints.
export { Trainer, NonFiniteLossError, checkpointName } from './trainer.js';
export type {
  TrainerOptions, UnlearnTrainerOptions, FinetuneTrainerOptions, TrainResult, StepEvent, BatchData, UnlearnData, FinetuneData,
  TrainBatch, CheckpointOptions,
} from './trainer.js';
export {
  createCurvatureProbe, stepTask, finiteDifferenceHvp, gradientsOf, lossOf, inverseCdfSampler, DEFAULT_FD_SCALE,
} from './curvature-probe.js';
export type { CurvatureProbeOptions, DisposableCurvatureProbe, LabelSampler, StepTask } from './curvature-probe.js';
export { memoryCheckpointIO, directoryCheckpointIO, disposeMaps } from './checkpoint-io.js';
export type { CheckpointIO } from './checkpoint-io.js';

import './setup.js';
export { initBackend, BACKEND_NAMES } from './backend.js';
export type { BackendName, BackendRequest, BackendReport } from './backend.js';
export { matmul, linear } from './matmul.js';
export { pickLogProb } from './ops/pick-log-prob.js';
export { rmsNorm } from './ops/rms-norm.js';
export { swiglu } from './ops/swiglu.js';
export { rope } from './ops/rope.js';
export { layerNorm } from './ops/layer-norm.js';
export { geluTanh } from './ops/gelu.js';
export { causalSoftmax } from './ops/causal-softmax.js';
export { causalAttention } from './ops/causal-attention.js';
export type { CausalAttentionOptions } from './ops/causal-attention.js';
export { registerMissingGradients } from './gradients.js';
export * as paramMath from './param-math.js';
export type { AnyTensorMap } from './param-math.js';
export {
  readSafetensors, writeSafetensors, decodeSafetensors, encodeSafetensors, parseSafetensorsHeader, decodeEntry,
  decodeTensorBytes, writeFileAtomic, SafetensorsError, MAX_HEADER_BYTES, readSafetensorsHeader,
} from './safetensors.js';
export type {
  SafetensorsDtype, SafetensorsEntry, SafetensorsHeader, SafetensorsContents, ReadSafetensorsOptions,
} from './safetensors.js';
export { openSafetensorsFolder, readSafetensorsFolder, writeSafetensorsFolder } from './safetensors-shards.js';
export type {
  CheckpointEntry, CheckpointNames, SafetensorsFolder, WriteCheckpointOptions, WrittenCheckpoint,
} from './safetensors-shards.js';
export { sumScalars, addAll } from './sums.js';

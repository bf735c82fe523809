// @unlearn/models: causal LMs from Hugging Face checkpoints on TensorFlow.js.
export { loadModel, saveModel, createModel, parseConfig, SUPPORTED_MODEL_TYPES } from './checkpoint.js';
export type { LoadModelOptions, CreateModelOptions, SavableTokenizer } from './checkpoint.js';
export { TransformerLM, disposeCache } from './transformer.js';
export type { KVCache, LayerCache, StepOptions, StepOutput } from './transformer.js';
export { Llama } from './llama.js';
export { Gpt2 } from './gpt2.js';
export { loadTokenizer, HFTokenizer, padBatch } from './tokenizer.js';
export type { TokenizerImplementation, PaddedBatch, PadOptions } from './tokenizer.js';
export { generate, generateTokens, sampleToken } from './generate.js';
export type { GenerateOptions, GenerateResult } from './generate.js';
export type { LinearAdapter } from './transformer.js';
export { applyLora, loadLora, saveLora, mergeLora, loraOf, LoraAdapter, linearModules, matchesTarget, loraOptionsSchema, ADAPTER_CONFIG, ADAPTER_WEIGHTS } from './lora.js';
export type { LoraOptions, LoraSettings, SaveLoraOptions } from './lora.js';

// @unlearn/data: TOFU and other QA/text data → label-masked, length-batched TokenBatches and forget/retain UnlearnBatches.
export { DataError } from './data-error.js';
export { readJsonLines, parseJsonLines } from './jsonl.js';
export {
  qaRowSchema, perturbedQaRowSchema, optionsQaRowSchema, optionsPerturbedQaRowSchema, optionsOf,
} from './qa-rows.js';
export type { QaRow, PerturbedQaRow, OptionsQaRow, OptionsPerturbedQaRow } from './qa-rows.js';
export { loadTofuSplit, loadIdkAnswers, isTofuSplitName, TOFU_SPLITS, TOFU_SPLIT_SETS } from './tofu.js';
export type { TofuSplit, TofuRow } from './tofu.js';
export { loadTofuSuiteData, firstAuthors } from './tofu-suite-data.js';
export type { TofuSuiteData, TofuSuiteDataOptions } from './tofu-suite-data.js';
export { loadQaJsonl } from './qa-jsonl.js';
export type { QaJsonlOptions } from './qa-jsonl.js';
export { plainTemplate, chatTemplate, tokenizerChatTemplate, tagTemplate } from './prompt-template.js';
export type { PromptFormatter, PlainTemplateOptions, ChatTemplateOptions, TagTemplateOptions } from './prompt-template.js';
export { templateFormatter, TEMPLATE_NAMES, BOUNDARIES, DEFAULT_SYSTEM_PROMPT, DEFAULT_DATE_STRING } from './template-presets.js';
export type { TemplateName, Boundary, TemplateSettings } from './template-presets.js';
export { encodeQa } from './encode-qa.js';
export type { EncodedExample, EncodeQaOptions, EncodeQaReport, EncodedQa, OverflowPolicy } from './encode-qa.js';
export { textWindows, loadTextWindows } from './text-windows.js';
export type { TextWindowOptions } from './text-windows.js';
export { collate, padExamples, defaultPadTokenId, disposeBatch } from './collate.js';
export type { CollateOptions, PaddingSide, PaddedArrays } from './collate.js';
export { planBatches, paddingFraction } from './length-batching.js';
export type { BatchPlanOptions } from './length-batching.js';
export { planTokenBatches } from './token-batches.js';
export type { TokenBatchesOptions, TokenBatchPlan } from './token-batches.js';
export { planUnlearnBatches } from './unlearn-batches.js';
export type { UnlearnBatchesOptions, UnlearnBatchPlan } from './unlearn-batches.js';
export { idkAlternates } from './idk-alternates.js';
export { generateAuthorProfiles, authorQa, QA_PER_AUTHOR } from './demo-authors.js';
export type { AuthorProfile, DemoQaRow } from './demo-authors.js';
export { generateDemoDataset, writeDemoDataset } from './demo-dataset.js';
export type { DemoDataset, DemoDatasetOptions } from './demo-dataset.js';

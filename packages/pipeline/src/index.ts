// @unlearn/pipeline — the unlearning pipeline as an API: `finetune`, `unlearn` and `evaluate` take a run config
// (validated by the same zod schema the CLI uses), write a run folder (config.yaml, log.jsonl, checkpoint/, eval.json,
// summary.json, report.md/html) and return the run's summary; `onEvent` receives every event as it happens.
export { finetune, FINETUNE_DEFAULTS, optimizerFor } from './finetune.js';
export { unlearn, UNLEARN_DEFAULTS, methodName } from './unlearn.js';
export { evaluate, evaluateModel, loadEvalData, EVAL_DEFAULTS } from './evaluate.js';
export type { EvalOutcome } from './evaluate.js';
export { evalTemplate } from './eval-template.js';
export { resolveRunConfig } from './run/run.js';
export type { RunOptions, RunResult, RunContext, RunCommand } from './run/run.js';
export { RunLog } from './run/run-log.js';
export type { RunEvent, RunEventListener, StepLogEvent } from './run/run-log.js';
export { createRunFolder, runFolderPaths, defaultRunName, writeJson } from './run/run-folder.js';
export type { RunFolder } from './run/run-folder.js';
export { runConfigSchema, registryName, REGISTRY_KEYS, BACKENDS } from './config/schema.js';
export type { RunConfig, RunConfigInput } from './config/schema.js';
export { loadRunConfig, validateRunConfig, readConfigFile, mergeConfig, formatIssue, ConfigError } from './config/load.js';
export { loadSplits, encodeRows } from './datasets.js';
export type { QaSplits } from './datasets.js';
export { maskData, buildMask } from './mask-data.js';
export { loadRunModel } from './model-io.js';
export type { LoadedModel } from './model-io.js';
export { withRunAdapters, saveRunModel, adapterDir } from './lora-run.js';
export { loraSchema } from './config/lora-schema.js';
export type { LoraConfig } from './config/lora-schema.js';
export { runTrainLoop } from './train-loop.js';
export type { TrainLoopOptions, BatchSource } from './train-loop.js';
export { learningRate } from './schedule.js';
export type { ScheduleName } from './schedule.js';
export { renderHtml, renderMarkdown, writeReport, lossCharts, tradeoffChart, METRIC_COLUMNS } from './report/report.js';
export type { ReportInput, RunSummary, LossPoint } from './report/report.js';
export { lineChart, scatterPlot, niceTicks, escapeXml } from './report/svg.js';
export { formatTable } from './report/table.js';
export { demo, demoPlan, prepareDemoAssets, tinyLlamaConfig } from './demo/demo.js';
export type { DemoOptions, DemoResult, DemoAssets } from './demo/demo.js';
export { buildWordTokenizer, wordPieces } from './demo/word-tokenizer.js';

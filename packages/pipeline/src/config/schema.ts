// The run config: one YAML/JSON file (or flags) describing a finetune / unlearn / eval run. Every section is a
// strict zod object, so a typo'd key fails loudly (open-unlearning's configs fail silently on typos); method names
// are checked against the @unlearn/core registries at load time, so the error lists what is actually registered.
import { z } from 'zod';
import { list, type RegistryKind } from '@unlearn/core';
import { attackSchema } from './attack-schema.js';
import { loraSchema } from './lora-schema.js';

export const BACKENDS = ['auto', 'wasm', 'cpu', 'webgpu', 'native', 'tensorflow', 'tensorflow-gpu'] as const;

/** A method name that must be registered under `kind` when the config is validated. */
export function registryName(kind: RegistryKind) {
  return z.string().superRefine((value, ctx) => {
    const known = list(kind);
    if (!known.includes(value)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `"${value}" is not one of ${known.length ? known.join(', ') : `(no ${kind} registered)`}`,
      });
    }
  });
}

/** Config keys whose value is a registry name, and the registry they name. */
export const REGISTRY_KEYS: Record<string, RegistryKind> = { 'objective.name': 'objective', 'optimizer.name': 'optimizer', 'mask.name': 'mask' };

/** Free-form options handed to a registry factory, which validates them itself. */
const factoryOptions = z.record(z.unknown()).default({}).describe('options passed to the factory (JSON or key=value,...)');

export const modelSchema = z
  .object({
    path: z.string().optional().describe('Hugging Face folder to load (config.json, model.safetensors, tokenizer.json)'),
    tokenizer: z.string().optional().describe('folder holding tokenizer.json (default: the model folder)'),
    create: z.record(z.unknown()).optional().describe('a fresh model from this HF config.json content instead of path'),
  })
  .strict();

export const dataSchema = z
  .object({
    dir: z.string().default('../shared/data/tofu').describe('folder of TOFU-format JSON files (TOFU itself, or `unlearn demo` data)'),
    train: z.string().default('full').describe('split to fine-tune on (full = forget + retain)'),
    forget: z.string().default('forget10').describe('split to forget'),
    retain: z.string().default('retain90').describe('split to keep'),
    holdout: z.string().optional().describe('split for MIA/privleak (default: holdoutNN matching forgetNN)'),
    extraTrain: z.array(z.string()).default([]).describe('splits added to every fine-tuning set, e.g. real_authors,world_facts (general knowledge to keep)'),
    forgetAuthors: z.number().int().positive().optional().describe('use only the first N authors of the forget split'),
    retainAuthors: z.number().int().positive().optional().describe('use only the first N authors of the retain split'),
    qaPerAuthor: z.number().int().positive().default(20).describe('QA pairs per author (TOFU: 20)'),
    maxLength: z.number().int().positive().optional().describe("tokens per example (prompt + answer; default: the model's max_position_embeddings)"),
  })
  .strict();

export const objectiveSchema = z
  .object({ name: registryName('objective').default('npo').describe('registered objective'), options: factoryOptions })
  .strict();

export const optimizerSchema = z
  .object({
    name: registryName('optimizer').default('sophia').describe('registered optimizer'),
    lr: z.number().positive().default(1e-4).describe('peak learning rate'),
    options: factoryOptions,
  })
  .strict();

export const maskSchema = z
  .object({
    name: registryName('mask').describe('mask builder (omit the section for no mask)'),
    keep: z.number().gt(0).lte(1).default(0.5).describe('fraction of weights that may change'),
    options: factoryOptions,
  })
  .strict();

export const trainingSchema = z
  .object({
    epochs: z.number().positive().default(1).describe('passes over the forget (or train) set (fractions allowed: 1.5 = one and a half)'),
    steps: z.number().int().positive().optional().describe('optimizer steps (overrides epochs; the batches cycle as often as needed)'),
    batchSize: z.number().int().positive().default(4),
    schedule: z.enum(['constant', 'linear', 'cosine']).default('constant'),
    warmupSteps: z.number().int().nonnegative().default(0),
    clipNorm: z.number().positive().optional().describe('global gradient-norm clip'),
    seed: z.number().int().default(0),
    checkpointEvery: z.number().int().positive().optional().describe('write a resumable checkpoint (checkpoints/step-N) every N steps; continue a killed run with --resume'),
    keep: z.number().int().positive().default(2).describe('newest checkpoints kept (2 or more lets a corrupt newest one fall back to the previous)'),
  })
  .strict();

export const evalSchema = z
  .object({
    enabled: z.boolean().default(true),
    retainModel: z.string().optional().describe('retain-only model folder: its truth ratios and Min-K AUC are evaluated on the fly (cached in the folder) for forget quality and privleak'),
    retainEval: z.string().optional().describe("a retain-only model's eval.json or open-unlearning's TOFU_EVAL.json, instead of retainModel"),
    maxItems: z.number().int().positive().optional().describe('evaluate at most the first N items of each split'),
    maxNewTokens: z.number().int().positive().default(200).describe("greedy answer tokens for ROUGE (open-unlearning: 200; the slowest part of evaluation)"),
    maxLength: z.number().int().min(2).optional().describe("tokens per evaluated sequence (default: min(512, the model's max_position_embeddings); separate from data.maxLength)"),
    batchSize: z.number().int().positive().default(32).describe('rows per teacher-forced forward and per batched generation (open-unlearning: 32)'),
    metrics: z.array(z.union([z.enum(['tofu', 'muse']), registryName('metric')])).optional().describe('evaluate these registered metrics or suites (tofu, muse) and what they depend on; default: tofu'),
    template: z.enum(['plain', 'llama2-inst', 'chat']).default('plain').describe('prompt format, also used by finetune/unlearn: plain "Question: q\nAnswer: a", llama2-inst "[INST] q [/INST]a", chat (the jinja chat template)'),
    chatTemplate: z.string().optional().describe('template chat: a jinja file to use instead of the tokenizer\'s chat_template'),
    systemPrompt: z.string().optional().describe('template chat: system message (default "You are a helpful assistant."; "" for none)'),
    dateString: z.string().optional().describe('template chat: the date_string variable (default "10 Apr 2025", as open-unlearning pins it)'),
    data: z.record(z.string()).optional().describe('extra metric data, key=JSONL file: verbmem, forgetKnowmem(+Icl), retainKnowmem(+Icl), museForget, museHoldout, multipleChoice'),
    compat: z.enum(['project', 'open-unlearning']).default('project').describe("answer boundary and EOS rule: project (common-prefix mask) or open-unlearning (preprocess_chat_instance exactly)"),
  })
  .strict();

export const runConfigSchema = z
  .object({
    name: z.string().regex(/^[\w.-]+$/, 'use letters, digits, "_", "-", "."').optional().describe('run name (folder name)'),
    backend: z.enum(BACKENDS).default('auto').describe('TensorFlow.js backend'),
    out: z.string().default('runs').describe('folder that receives one sub-folder per run'),
    model: modelSchema.default({}),
    data: dataSchema.default({}),
    objective: objectiveSchema.default({}),
    optimizer: optimizerSchema.default({}),
    mask: maskSchema.optional(),
    lora: loraSchema.optional().describe('train LoRA adapters instead of all weights (or load one with lora.adapter)'),
    training: trainingSchema.default({}),
    eval: evalSchema.default({}),
    attack: attackSchema.optional().describe('unlearn attack relearn|quantize|prefix settings'),
    log: z
      .object({
        quiet: z.boolean().default(false).describe('no progress bars or tables'),
        every: z.number().int().positive().default(1).describe('log every N steps'),
      })
      .strict()
      .default({}),
  })
  .strict();

export type RunConfig = z.infer<typeof runConfigSchema>;
export type RunConfigInput = z.input<typeof runConfigSchema>;

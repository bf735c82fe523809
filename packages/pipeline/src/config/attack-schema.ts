// The `attack` section of a run config: how `unlearn attack relearn|quantize|prefix` tries to bring forgotten
// knowledge back. Optional in the run schema (finetune / unlearn / eval runs carry none); `attack()` fills the defaults.
import { z } from 'zod';

export const ATTACK_KINDS = ['relearn', 'quantize', 'prefix'] as const;
export const QUANTIZERS = ['int8', 'int4', 'nf4'] as const;

export const attackSchema = z
  .object({
    kind: z.enum(ATTACK_KINDS).default('relearn').describe('the attack (the CLI sets it from its subcommand)'),
    relearn: z
      .object({
        steps: z.number().int().positive().default(8).describe('fine-tuning steps on the relearning set'),
        checkpoints: z.array(z.coerce.number().int().nonnegative()).optional().describe('steps to evaluate at (default 0, k/4, k/2, k)'),
        set: z.enum(['targeted', 'benign']).default('targeted').describe('targeted: a slice of the forget set; benign: retain data'),
        items: z.number().int().positive().default(8).describe('rows in the relearning set'),
        batchSize: z.number().int().positive().default(4),
        optimizer: z.string().default('adamw').describe('registered optimizer for relearning'),
        lr: z.number().positive().default(1e-3).describe('relearning learning rate (constant)'),
        seed: z.number().int().default(0).describe('seed of the slice and the batch order (same for both models)'),
      })
      .strict()
      .default({}),
    quantize: z
      .object({
        methods: z.array(z.enum(QUANTIZERS)).default(['int8', 'int4', 'nf4']).describe('weight round trips to try'),
        groupSize: z.number().int().positive().default(128).describe('int4: inputs per absmax scale (64 or 128)'),
        blockSize: z.number().int().positive().default(64).describe('nf4: weights per absmax block'),
        includeEmbeddings: z.boolean().default(false).describe('also quantize the token embeddings (bitsandbytes does not)'),
      })
      .strict()
      .default({}),
    prefix: z
      .object({
        attacks: z.array(z.string()).default(['answer-prefix', 'ignore-instructions', 'roleplay', 'paraphrase']).describe('prompt attacks on the forget questions'),
      })
      .strict()
      .default({}),
  })
  .strict();

export type AttackConfig = z.infer<typeof attackSchema>;

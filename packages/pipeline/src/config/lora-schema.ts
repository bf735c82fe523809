// The run config's `lora` section: train LoRA adapters (Hu et al. 2021) instead of every weight, or load a PEFT
// adapter folder onto model.path. Flags derive from it: --lora-r, --lora-alpha, --lora-targets q_proj,v_proj, …
import { z } from 'zod';

export const loraSchema = z
  .object({
    r: z.number().int().positive().default(8).describe('LoRA rank r'),
    alpha: z.number().positive().default(16).describe('LoRA alpha (the update is scaled by alpha/r)'),
    dropout: z.number().min(0).lt(1).default(0).describe('dropout on the adapter input while training'),
    targets: z
      .preprocess((v) => (typeof v === 'string' ? v.split(',').map((x) => x.trim()) : v), z.array(z.string().min(1)).min(1))
      .default(['q_proj', 'v_proj'])
      .describe('modules to adapt, by name (q_proj,v_proj,…)'),
    targetRegex: z.string().min(1).optional().describe('regex over full module paths instead of targets (PEFT semantics)'),
    rslora: z.boolean().default(false).describe('rank-stabilised scaling alpha/sqrt(r)'),
    adapter: z.string().optional().describe('PEFT adapter folder to load onto model.path (instead of fresh adapters)'),
    gradientCheckpointing: z.boolean().default(false).describe('recompute each layer in the backward pass (less memory)'),
  })
  .strict();

export type LoraConfig = z.infer<typeof loraSchema>;

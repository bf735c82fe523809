// `unlearn attack relearn|quantize|prefix`: robustness attacks on an unlearned model (model.path) with its retain-only
// partner (eval.retainModel), over @unlearn/pipeline's `attack`. Every run-config key is a flag (as for the other run
// commands); the subcommand sets attack.kind, and `quantize --int8 --int4 --nf4` pick the quantizers.
import type { Command } from 'commander';
import { loadRunConfig, type AttackOutcome, type RunConfig } from '@unlearn/pipeline';
import { addConfigFlags, flagOverrides } from '../config/flags.js';
import { progressPrinter } from '../run/progress.js';
import type { CliIO } from '../cli.js';

const KINDS = {
  relearn: 'fine-tune the unlearned and the retain-only model for k steps on a forget slice (or retain rows); forget metrics per checkpoint, R',
  quantize: 'int8 / 4-bit RTN / NF4 weight round trips of the unlearned model, re-evaluated; Q per metric',
  prefix: 'prompt attacks on the forget questions (answer prefix, instruction wrappers, paraphrases); forget probability / ROUGE-L',
} as const;

const f = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? String(Number(v.toPrecision(4))) : '—');

/** A few lines for the terminal: the recovery per step or variant, then the scores. */
export function formatAttack(o: AttackOutcome): string {
  const lines: string[] = [];
  if (o.curves) {
    lines.push('step  forget prob (unlearned)  forget prob (retain-only)  held-out (unlearned)  ROUGE-L (unlearned)');
    o.curves.unlearned.forEach((p, i) => {
      const r = o.curves!.retainOnly[i]?.metrics ?? {};
      lines.push(`${String(p.step).padStart(4)}  ${f(p.metrics.forgetProb).padStart(23)}  ${f(r.forgetProb).padStart(25)}  ${f(p.metrics.forgetProbHeldOut).padStart(20)}  ${f(p.metrics.forgetRougeL).padStart(19)}`);
    });
  } else {
    lines.push('variant              forget prob  ROUGE-L  model utility  (retain-only forget prob)');
    for (const v of o.variants ?? []) {
      lines.push(`${v.name.padEnd(19)}  ${f(v.unlearned.forgetProb).padStart(11)}  ${f(v.unlearned.forgetRougeL).padStart(7)}  ${f(v.unlearned.modelUtility).padStart(13)}  ${v.retainOnly ? f(v.retainOnly.forgetProb) : ''}`);
    }
  }
  const scores = Object.entries(o.scores).filter(([k]) => /forgetProb$|forgetRougeL$|forgetProbHeldOut$/.test(k));
  if (scores.length) lines.push('', scores.map(([k, v]) => `${k} = ${f(v)}`).join('\n'));
  return lines.join('\n');
}

export function registerAttackCommand(program: Command, io: CliIO): void {
  const attack = program.command('attack').description('robustness of unlearning: relearn | quantize | prefix (needs --model-path and --eval-retain-model)');
  for (const [kind, description] of Object.entries(KINDS)) {
    const cmd = attack.command(kind).description(description).option('-c, --config <file>', 'run config (YAML or JSON); flags override its keys');
    if (kind === 'quantize') cmd.option('--int8', 'int8 absmax per output channel').option('--int4', '4-bit round-to-nearest, absmax per group').option('--nf4', 'NF4 (QLoRA), blockwise absmax');
    addConfigFlags(cmd);
    cmd.action(async (opts: Record<string, unknown>) => {
      const { overrides, flagByKey } = flagOverrides(opts);
      const picked = ['int8', 'int4', 'nf4'].filter((m) => opts[m]);
      const attackOverrides = (overrides.attack ?? {}) as Record<string, unknown>;
      if (picked.length) attackOverrides.quantize = { ...(attackOverrides.quantize as object), methods: picked };
      overrides.attack = { ...attackOverrides, kind };
      const config: RunConfig = await loadRunConfig(opts.config as string | undefined, overrides, flagByKey, { attack: {} });
      const { attack: run } = await import('@unlearn/pipeline');
      const r = await run(config, { onEvent: progressPrinter({ stream: io.stderr, quiet: config.log.quiet }) });
      io.stdout.write(`${formatAttack(r.attack)}\n\nrun folder: ${r.folder.dir}\nattack report: ${r.folder.dir}/attack.md\n`);
    });
  }
}

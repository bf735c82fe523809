// The `unlearn` command line: a thin flag parser over @unlearn/pipeline. Each run command takes a YAML/JSON config
// (--config) whose every key is also a flag, resolves it (the command's defaults, the file, the flags), and calls the
// pipeline's finetune / unlearn / evaluate with a progress printer subscribed to the run's events.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { list } from '@unlearn/core';
import {
  BACKENDS, EVAL_DEFAULTS, FINETUNE_DEFAULTS, UNLEARN_DEFAULTS, loadRunConfig, type RunConfig, type RunConfigInput, type RunOptions,
  type RunResult,
} from '@unlearn/pipeline';
import { addConfigFlags, flagOverrides } from './config/flags.js';
import { progressPrinter } from './run/progress.js';
import { registerAttackCommand } from './commands/attack-cmd.js';

export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const defaultIO: CliIO = { stdout: process.stdout, stderr: process.stderr };

/** Resolves a run command's config: its defaults, then the --config file, then flags (errors name the file or flag). */
export async function resolveConfig(opts: Record<string, unknown>, defaults: RunConfigInput = {}): Promise<RunConfig> {
  const { overrides, flagByKey } = flagOverrides(opts);
  return loadRunConfig(opts.config as string | undefined, overrides, flagByKey, defaults as Record<string, unknown>);
}

type RunFn = (config: RunConfigInput, options: RunOptions) => Promise<RunResult>;

/** A run whose training diverged: the CLI prints its table and exits non-zero. */
export class RunStoppedError extends Error {
  override name = 'RunStoppedError';
}

function runCommand(
  program: Command, name: string, description: string, defaults: RunConfigInput, run: () => Promise<RunFn>, io: CliIO,
  options: { trains: boolean; exclude?: string[] },
): void {
  const cmd = program.command(name).description(description).option('-c, --config <file>', 'run config (YAML or JSON, e.g. a run folder\'s config.yaml); flags override its keys');
  if (options.trains) cmd.option('--resume', 'continue the run folder of this --name from its newest good checkpoint (same config)');
  cmd.option('--overwrite', 'delete a run folder of this --name and start again');
  addConfigFlags(cmd, options.exclude);
  cmd.action(async (opts: Record<string, unknown>) => {
    const config = await resolveConfig(opts, defaults);
    const { formatTable } = await import('@unlearn/pipeline');
    const { summary, folder, report } = await (await run())(config, {
      onEvent: progressPrinter({ stream: io.stderr, quiet: config.log.quiet }),
      resume: !!opts.resume, overwrite: !!opts.overwrite, handleSignals: true,
    });
    io.stdout.write(`${formatTable([summary])}\n`);
    io.stdout.write(`run folder: ${folder.dir}\nreport: ${report.html}\n`);
    if (summary.stopped) {
      const s = summary.stopped;
      throw new RunStoppedError(`${folder.dir}: training stopped at step ${s.step} (${s.reason}); no final checkpoint was written; ${s.lastCheckpoint ? `the last good checkpoint is ${s.lastCheckpoint}` : 'no checkpoint was written (set --training-checkpoint-every)'}`);
    }
  });
}

/** The CLI's version (its package.json). */
export function cliVersion(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

export function buildProgram(io: CliIO = defaultIO): Command {
  const program = new Command('unlearn')
    .description('SOUL second-order LLM unlearning on TensorFlow.js: fine-tune, unlearn, evaluate, report')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .version(cliVersion(), '-V, --version', 'print the version')
    .exitOverride();

  runCommand(program, 'finetune', 'fine-tune a model on a QA split (makes the target and the retain-only model); evaluates nothing unless --eval-enabled',
    FINETUNE_DEFAULTS, async () => (await import('@unlearn/pipeline')).finetune, io, { trains: true, exclude: ['objective', 'mask'] });
  runCommand(program, 'unlearn', 'forget a split with an objective × optimizer (× mask), then evaluate',
    UNLEARN_DEFAULTS, async () => (await import('@unlearn/pipeline')).unlearn, io, { trains: true });
  runCommand(program, 'eval', 'evaluate a model: forget quality, model utility, ROUGE-L, privleak',
    EVAL_DEFAULTS, async () => (await import('@unlearn/pipeline')).evaluate, io, { trains: false, exclude: ['objective', 'optimizer', 'mask', 'training', 'data.train', 'data.extraTrain'] });

  registerAttackCommand(program, io);

  program
    .command('report')
    .description('one Markdown + HTML report comparing run folders')
    .argument('<runs...>', 'run folders (each with summary.json)')
    .option('-o, --out <dir>', 'where to write report.md / report.html', 'report')
    .option('--title <text>', 'report title')
    .option('--baseline <dir...>', 'run folders shown as reference rows (e.g. the target and retain-only models)')
    .option('--screenshot', 'also render report.png in headless Chromium')
    .action(async (runs: string[], o: { out: string; title?: string; baseline?: string[]; screenshot?: boolean }) => {
      const { reportCommand } = await import('./commands/report-cmd.js');
      const r = await reportCommand(runs, { out: o.out, title: o.title, baselines: o.baseline, screenshot: o.screenshot });
      io.stdout.write(`report: ${r.html}\n${r.png ? `screenshot: ${r.png}\n` : ''}`);
    });

  program
    .command('generate')
    .description('continue prompts with a model folder')
    .argument('<prompts...>', 'prompt texts')
    .requiredOption('-m, --model <dir>', 'Hugging Face model folder (with tokenizer.json)')
    .option('-n, --max-new-tokens <n>', 'tokens to generate', (v) => parsePositiveInt('--max-new-tokens', v), 48)
    .option('--sample', 'sample instead of greedy decoding')
    .option('--seed <n>', 'sampling seed', (v) => parsePositiveInt('--seed', v, true), 0)
    .option('-q, --question', 'wrap each prompt as "Question: …\\nAnswer:"')
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend').choices(BACKENDS).default('auto'))
    .action(async (prompts: string[], o: { model: string; maxNewTokens: number; sample?: boolean; seed: number; question?: boolean; backend: string }) => {
      const { initBackend } = await import('@unlearn/tensors');
      await initBackend(o.backend as 'auto');
      const { generateCommand } = await import('./commands/generate-cmd.js');
      const out = await generateCommand({ model: o.model, prompts, maxNewTokens: o.maxNewTokens, sample: !!o.sample, seed: o.seed, question: !!o.question });
      for (const r of out) io.stdout.write(`${r.prompt}${o.question ? ' ' : ''}${r.text}\n`);
    });

  program
    .command('bench')
    .description('time forward, AdamW and Sophia (gnb, fisher, hutchinson) steps on one backend; prints a table, --json writes it')
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend').choices(BACKENDS).default('auto'))
    .option('-m, --model <dir>', 'model folder to time (default: the stories260K config with random weights)')
    .option('--steps <n>', 'timed steps per mode', (v) => parsePositiveInt('--steps', v), 3)
    .option('--warmup <n>', 'untimed steps per mode', (v) => parsePositiveInt('--warmup', v, true), 1)
    .option('--batch-size <n>', 'sequences per step', (v) => parsePositiveInt('--batch-size', v), 8)
    .option('--seq <n>', 'tokens per sequence', (v) => parsePositiveInt('--seq', v), 128)
    .option('--modes <list>', 'comma-separated: forward,adamw,sophia-gnb,sophia-fisher,sophia-hutchinson')
    .option('--json <file>', 'write the results as JSON')
    .action(async (o) => {
      const { benchCommand } = await import('./commands/bench.js');
      await benchCommand(o, io);
    });

  program
    .command('demo')
    .description('the whole pipeline in minutes: generated authors, a tiny model, fine-tune, forget one author with SOUL (Sophia) and AdamW, evaluate, report')
    .option('-o, --out <dir>', 'folder for the demo runs', 'runs/demo')
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend').choices(BACKENDS).default('wasm'))
    .option('--quick', 'a much smaller run (seconds; for tests)')
    .option('--quiet', 'no progress bars')
    .action(async (o: { out: string; backend: string; quick?: boolean; quiet?: boolean }) => {
      const { demo, formatTable } = await import('@unlearn/pipeline');
      const say = (s: string) => void (o.quiet || io.stderr.write(`${s}\n`));
      const r = await demo({ out: o.out, backend: o.backend as 'wasm', quick: !!o.quick, say, onEvent: progressPrinter({ stream: io.stderr, quiet: !!o.quiet }) });
      io.stdout.write(`\n${formatTable([...r.baselines, ...r.runs])}\n\nreport: ${r.report}\n`);
    });

  program
    .command('list')
    .description('registered objectives, optimizers, masks and metrics')
    .action(async () => {
      await import('@unlearn/pipeline'); // registers the built-in objectives, optimizers and masks
      for (const kind of ['objective', 'optimizer', 'mask', 'metric'] as const) io.stdout.write(`${kind}s: ${list(kind).join(', ') || '(none)'}\n`);
    });

  return program;
}

function parsePositiveInt(flag: string, v: string, allowZero = false): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) throw new Error(`${flag}: expected a ${allowZero ? 'non-negative' : 'positive'} integer, got "${v}"`);
  return n;
}

/** Runs the CLI; resolves to the exit code. Errors print as one `unlearn: …` line (config errors: one line per problem). */
export async function main(argv: readonly string[], io: CliIO = defaultIO): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    const err = e as Error;
    io.stderr.write(`unlearn: ${err.message}\n`);
    if (process.env.UNLEARN_DEBUG) io.stderr.write(`${err.stack}\n`);
    return 1;
  }
}

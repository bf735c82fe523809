// The training loop — unlearning (an Objective on forget/retain batches) and fine-tuning (NLL on `train` batches):
// batch → loss and gradients (tf.variableGrads over the trainable, unmasked
// parameters) → optional global-norm clipping → Optimizer.step with a lazily built CurvatureProbe and the Mask →
// step event → periodic atomic checkpoint. Resuming from a checkpoint repeats the uninterrupted run bit for bit
// (parameters, optimizer state, RNG and step are all restored; the data position is replayed). Every host read is
// asynchronous (`await t.data()`, and the optimizer's step and loadState are awaited), so the loop runs on backends
// with no synchronous readback (WebGPU in Node).
import * as tf from '@tensorflow/tfjs-core';
import type { Scalar, Tensor } from '@tensorflow/tfjs-core';
import { lossTokens } from '@unlearn/core';
import type {
  StepContext,
  CausalLM, FinetuneBatch, LearningRateSchedule, Mask, Objective, ObjectiveContext, Optimizer, ParamMap, StepStats, TensorMap,
  UnlearnBatch,
} from '@unlearn/core';
import { seededRandom, type SeededRandom } from '@unlearn/random';
import { decodeSafetensors, encodeSafetensors } from '@unlearn/tensors/safetensors-codec';
import { sumScalars } from '@unlearn/tensors/sums';
import { disposeMaps } from './checkpoint-io.js';
import type { CheckpointIO } from './checkpoint-io.js';
import { createCurvatureProbe, stepTask } from './curvature-probe.js';
import type { DisposableCurvatureProbe, LabelSampler } from './curvature-probe.js';

/** Batches for a run: a (re-iterable) iterable or async iterable, or a function of the 0-based step. */
export type BatchData<B> = Iterable<B> | AsyncIterable<B> | ((step: number) => B | Promise<B>);
/** Unlearning batches (forget, retain, alternate), consumed by the run's objective. */
export type UnlearnData = BatchData<UnlearnBatch>;
/** Fine-tuning batches: next-token NLL on each batch's `train` part. */
export type FinetuneData = BatchData<FinetuneBatch>;
/** One batch of either kind. */
export type TrainBatch = UnlearnBatch | FinetuneBatch;

export interface CheckpointOptions {
  io: CheckpointIO;
  /** Write a checkpoint after every `every` steps (and after the last step). */
  every: number;
  /** Keep only the newest `keep` checkpoints (default: all). */
  keep?: number;
}

interface CommonTrainerOptions {
  model: CausalLM;
  optimizer: Optimizer;
  /** Number of optimizer steps; iterables are cycled as needed. Give `steps` or `epochs`. */
  steps?: number;
  /** Passes over an iterable `data`. */
  epochs?: number;
  schedule?: LearningRateSchedule;
  mask?: Mask;
  /** Reference model for objectives with `needs.reference` (default: `model.frozenCopy()` before any update). */
  reference?: CausalLM;
  /** Rescale gradients whose global L2 norm exceeds this. */
  maxGradNorm?: number;
  /** Seed of the run's RNG, which draws each step's `seed` for the optimizer (default 0). */
  seed?: number;
  checkpoint?: CheckpointOptions;
  /**
   * After every update, check that every parameter is finite and stop with a NonFiniteLossError when one is not
   * (default true; one small download per step).
   */
  checkFinite?: boolean;
  /** Messages about recoverable problems (a corrupt checkpoint skipped on resume, stale temporary folders removed). */
  onWarning?: (message: string) => void;
  /** Called after every step (progress bars, logs); awaited. */
  onStep?: (event: StepEvent) => void | Promise<void>;
  /** Dispose each batch after its step (default: true for function data, false for iterables, which may be reused). */
  disposeBatches?: boolean;
  /** Curvature probe settings (finite-difference scale, GNB label sampler). */
  probe?: { fdScale?: number; sampleLabels?: LabelSampler };
  /**
   * Whole example sets for optimizers whose `needs` ask for them (influence unlearning: the forget set and the retain
   * set), passed to every step as `StepContext.sets`; build them with @unlearn/optim's `exampleSetCurvature`. Without them
   * such an optimizer falls back to what the step's batch offers (and says so in its stats).
   */
  sets?: StepContext['sets'];
}

/** Unlearning: `objective` on forget / retain / alternate batches. */
export interface UnlearnTrainerOptions extends CommonTrainerOptions {
  objective: Objective;
  data: UnlearnData;
}

/** Fine-tuning: the loss is the mean next-token NLL of each batch's `train` part; there is no objective. */
export interface FinetuneTrainerOptions extends CommonTrainerOptions {
  objective?: undefined;
  data: FinetuneData;
}

export type TrainerOptions = UnlearnTrainerOptions | FinetuneTrainerOptions;

export interface StepEvent {
  /** 0-based index of the step just taken. */
  step: number;
  /** Total steps of the run when known. */
  totalSteps?: number;
  epoch: number;
  loss: number;
  /** The objective's named parts (e.g. forget, retain). */
  parts: Record<string, number>;
  /** Global L2 norm of the gradients before clipping (absent for zeroth-order optimizers). */
  gradNorm?: number;
  lr?: number;
  /** What the optimizer reported (e.g. Sophia's `winRate`). */
  stats: StepStats;
  /** Non-padding tokens the step processed (all batch parts). */
  tokens: number;
  seconds: number;
  tokensPerSecond: number;
}

export interface TrainResult {
  /** Steps completed in total (including those before a resume). */
  steps: number;
  last?: StepEvent;
  /** Name of the newest checkpoint written or resumed from. */
  checkpoint?: string;
}

/** Raised when a step's loss or gradient norm is NaN or ±Inf; the parameters are left as before that step. */
export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
  constructor(message: string, readonly step: number, readonly lastCheckpoint?: string) {
    super(message);
  }
}

const FORMAT = 'unlearn-checkpoint/1';
/** SHA-256 of every other file of a checkpoint, so a corrupt one is detected and skipped on resume. */
const CHECKSUMS = 'checksums.json';

class CorruptCheckpointError extends Error {}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function checksumsOf(files: Record<string, Uint8Array>): Promise<Uint8Array> {
  const sha256: Record<string, string> = {};
  for (const [name, bytes] of Object.entries(files)) sha256[name] = await sha256Hex(bytes);
  return new TextEncoder().encode(`${JSON.stringify({ sha256 }, null, 2)}\n`);
}
export const checkpointName = (step: number) => `step-${String(step).padStart(6, '0')}`;
const stepOfName = (name: string) => (/^step-(\d+)$/.exec(name) ? Number(/^step-(\d+)$/.exec(name)![1]) : -1);

/** The Trainer's random stream (mulberry32): its whole state is one uint32, saved in checkpoints. */
class Rng {
  private r: SeededRandom;
  constructor(state: number) {
    this.r = seededRandom(state);
  }
  get state(): number {
    return this.r.state;
  }
  set state(s: number) {
    this.r = seededRandom(s);
  }
  nextUint32(): number {
    return this.r.uint32();
  }
}

interface Position {
  step: number;
  epoch: number;
  batch: TrainBatch;
}

function isAsyncIterable(x: unknown): x is AsyncIterable<TrainBatch> {
  return typeof (x as AsyncIterable<unknown>)?.[Symbol.asyncIterator] === 'function';
}

function disposeBatch(b: TrainBatch): void {
  const parts = 'train' in b ? [b.train] : [b.forget, b.retain, b.alternate];
  for (const part of parts) if (part) tf.dispose([part.inputIds, part.attentionMask, part.labels]);
}

export class Trainer {
  private readonly o: TrainerOptions;

  constructor(options: TrainerOptions) {
    const { steps, epochs, data } = options;
    if ((steps === undefined) === (epochs === undefined)) throw new Error('Trainer: give exactly one of `steps` and `epochs`');
    if (steps !== undefined && !(Number.isInteger(steps) && steps > 0)) throw new Error(`Trainer: steps must be a positive integer, got ${steps}`);
    if (epochs !== undefined && !(Number.isInteger(epochs) && epochs > 0)) throw new Error(`Trainer: epochs must be a positive integer, got ${epochs}`);
    if (epochs !== undefined && typeof data === 'function') throw new Error('Trainer: `epochs` needs iterable data; with a function of the step, give `steps`');
    if (options.maxGradNorm !== undefined && !(options.maxGradNorm > 0)) throw new Error(`Trainer: maxGradNorm must be > 0, got ${options.maxGradNorm}`);
    if (options.checkpoint && !(Number.isInteger(options.checkpoint.every) && options.checkpoint.every > 0)) {
      throw new Error(`Trainer: checkpoint.every must be a positive integer, got ${options.checkpoint.every}`);
    }
    const keep = options.checkpoint?.keep;
    if (keep !== undefined && !(Number.isInteger(keep) && keep > 0)) throw new Error(`Trainer: checkpoint.keep must be a positive integer, got ${keep}`);
    this.o = options;
  }

  /** Runs to completion. `resume: true` continues from the newest checkpoint when one exists. */
  async run(options: { resume?: boolean } = {}): Promise<TrainResult> {
    const o = this.o;
    const { model, objective, optimizer } = o;
    const ownsReference = !!objective?.needs.reference && !o.reference;
    // The reference is the model BEFORE unlearning: copy it before a checkpoint overwrites the parameters.
    const reference = objective?.needs.reference ? (o.reference ?? model.frozenCopy()) : undefined;
    const rng = new Rng((o.seed ?? 0) >>> 0);
    let start = 0;
    let lastCheckpoint: string | undefined;
    try {
      if (o.checkpoint?.io.sweep) for (const removed of await o.checkpoint.io.sweep()) o.onWarning?.(`${o.checkpoint.io.where}: removed ${removed} (left by an interrupted write)`);
      if (options.resume && o.checkpoint) {
        const restored = await this.restore(rng);
        if (restored) ({ step: start, name: lastCheckpoint } = restored);
      }
      const totalSteps = o.steps ?? (Array.isArray(o.data) ? o.data.length * o.epochs! : undefined);
      const params = this.stepParams();
      const owns = o.disposeBatches ?? typeof o.data === 'function';
      let last: StepEvent | undefined;
      let done = start;
      for await (const pos of this.positions(start, owns)) {
        try {
          last = await this.step(pos, params, rng, reference, totalSteps, lastCheckpoint);
        } finally {
          if (owns) disposeBatch(pos.batch);
        }
        done = pos.step + 1;
        if (o.onStep) await o.onStep(last);
        if (o.checkpoint && (done % o.checkpoint.every === 0 || done === totalSteps)) {
          lastCheckpoint = await this.save(done, rng);
        }
      }
      if (o.checkpoint && done > start && lastCheckpoint !== checkpointName(done)) lastCheckpoint = await this.save(done, rng);
      return { steps: done, last, checkpoint: lastCheckpoint };
    } finally {
      if (ownsReference) reference?.dispose();
    }
  }

  /** Parameters that receive gradients: trainable ones, restricted to the mask's names when there is a mask. */
  private stepParams(): ParamMap {
    const { model, mask } = this.o;
    const out: ParamMap = new Map();
    for (const [name, v] of model.params) if (v.trainable && (!mask || mask.has(name))) out.set(name, v);
    if (mask) {
      for (const name of mask.keys()) if (!model.params.has(name)) throw new Error(`Trainer: mask names "${name}", which is not a model parameter`);
    }
    if (out.size === 0) throw new Error('Trainer: no trainable parameters to update (empty mask or frozen model)');
    return out;
  }

  private async *positions(start: number, owns: boolean): AsyncGenerator<Position> {
    const { data, steps, epochs } = this.o;
    if (typeof data === 'function') {
      for (let step = start; step < steps!; step++) yield { step, epoch: 0, batch: await data(step) };
      return;
    }
    let index = 0;
    for (let epoch = 0; epochs === undefined || epoch < epochs; epoch++) {
      let seen = 0;
      const it = isAsyncIterable(data) ? data : (data as Iterable<TrainBatch>);
      for await (const batch of it as AsyncIterable<TrainBatch>) {
        seen++;
        if (steps !== undefined && index >= steps) return;
        if (index < start) {
          if (owns) disposeBatch(batch);
        } else {
          yield { step: index, epoch, batch };
        }
        index++;
      }
      if (seen === 0) throw new Error(`Trainer: data yielded no batches in epoch ${epoch}${epoch > 0 ? ' (a one-shot iterator cannot be re-iterated; pass an array or a function of the step)' : ''}`);
      if (steps !== undefined && index >= steps) return;
    }
  }

  private async step(pos: Position, params: ParamMap, rng: Rng, reference: CausalLM | undefined, totalSteps: number | undefined, lastCheckpoint: string | undefined): Promise<StepEvent> {
    const { model, objective, optimizer, mask, schedule, maxGradNorm } = this.o;
    const { step, batch } = pos;
    const t0 = performance.now();
    const ctx: ObjectiveContext = { step, reference };
    // What the step differentiates and which parts carry loss: the objective on an unlearning batch, NLL on a fine-tuning one.
    const task = stepTask(model, batch, objective, ctx, `Trainer: step ${step}`);
    const lr = schedule?.(step);
    const seed = rng.nextUint32();
    // Built once the step's counts are on the host (with the loss, in one download), so the probe needs none for B.
    let probe: DisposableCurvatureProbe | undefined;
    const probeWith = (tokenCounts: number[]) =>
      (probe = createCurvatureProbe({ model, objective, batch, objectiveContext: ctx, params, ...this.o.probe, tokenCounts }));
    const lossParts = task.lossParts;
    let grads: TensorMap = new Map();
    const partNames: string[] = [];
    let stats: StepStats;
    let loss: number;
    let gradNorm: number | undefined;
    let tokens: number;
    const parts: Record<string, number> = {};
    // [non-padding tokens of all parts, loss-bearing tokens of forget (, retain)]
    const counts = tf.tidy(() => tf.stack([
      sumScalars(task.allParts.map((p) => tf.sum(tf.cast(p.attentionMask, 'float32')))),
      ...lossParts.map(lossTokens),
    ]));
    try {
      if (optimizer.usesGradients !== false) {
        const kept: Scalar[] = [];
        const byVarName = new Map([...params].map(([name, v]) => [v.name, name]));
        const { value, grads: named } = tf.variableGrads(() => {
          const out = task.loss();
          if (out instanceof tf.Tensor) return out;
          for (const [name, t] of Object.entries(out.parts ?? {})) {
            partNames.push(name);
            kept.push(tf.keep(t));
          }
          return out.loss;
        }, [...params.values()]);
        for (const [varName, g] of Object.entries(named)) if (g) grads.set(byVarName.get(varName)!, g);
        for (const [name, v] of params) if (!grads.has(name)) grads.set(name, tf.zerosLike(v));
        const summary = tf.tidy(() => tf.concat([tf.stack([value, ...kept, sumScalars([...grads.values()].map((g) => tf.sum(tf.square(g))))]), counts]));
        const numbers = await summary.data();
        tf.dispose([summary, value, ...kept]);
        loss = numbers[0];
        partNames.forEach((n, i) => (parts[n] = numbers[1 + i]));
        gradNorm = Math.sqrt(numbers[1 + partNames.length]);
        tokens = numbers[2 + partNames.length];
        const tokenCounts = Array.from(numbers.subarray(3 + partNames.length));
        if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
          const what = !Number.isFinite(loss) ? `loss is ${loss}` : `gradient norm is ${gradNorm} (loss ${loss})`;
          const partText = partNames.length ? ` (${partNames.map((n) => `${n}=${parts[n]}`).join(', ')})` : '';
          throw new NonFiniteLossError(
            `Trainer: step ${step}: ${what}${partText}; stopped before updating the parameters; ` +
              (lastCheckpoint ? `the last good checkpoint is ${lastCheckpoint} in ${this.o.checkpoint!.io.where}` : 'no checkpoint was written'),
            step, lastCheckpoint,
          );
        }
        if (maxGradNorm !== undefined && gradNorm > maxGradNorm) {
          const scale = maxGradNorm / (gradNorm + 1e-6);
          const scaled: TensorMap = new Map();
          for (const [name, g] of grads) scaled.set(name, tf.mul(g, scale));
          disposeMaps(grads);
          grads = scaled;
        }
        stats = await optimizer.step(params, grads, { step, lr, probe: probeWith(tokenCounts), mask, seed, ...(this.o.sets ? { sets: this.o.sets } : {}) });
      } else {
        const numbers = await counts.data();
        tokens = numbers[0];
        const zerothProbe = probeWith(Array.from(numbers.subarray(1)));
        stats = await optimizer.step(params, grads, { step, lr, probe: zerothProbe, mask, seed, ...(this.o.sets ? { sets: this.o.sets } : {}) });
        loss = stats.loss ?? (await zerothProbe.lossValue());
        if (!Number.isFinite(loss)) {
          throw new NonFiniteLossError(
            `Trainer: step ${step}: loss is ${loss} (zeroth-order estimate); stopped before updating the parameters; ` +
              (lastCheckpoint ? `the last good checkpoint is ${lastCheckpoint} in ${this.o.checkpoint!.io.where}` : 'no checkpoint was written'),
            step, lastCheckpoint,
          );
        }
      }
    } finally {
      disposeMaps(grads);
      counts.dispose();
      probe?.dispose();
    }
    await this.checkFiniteParams(params, step, lastCheckpoint);
    const seconds = (performance.now() - t0) / 1000;
    return { step, totalSteps, epoch: pos.epoch, loss, parts, gradNorm, lr, stats, tokens, seconds, tokensPerSecond: tokens / seconds };
  }

  /**
   * A finite loss and gradient can still give a non-finite update (a huge learning rate, an optimizer's state
   * overflowing): one download of "is every entry finite" per parameter after the step. The parameters in memory are
   * then broken, so the run stops without checkpointing them; the newest checkpoint (if any) is the last good state.
   */
  private async checkFiniteParams(params: ParamMap, step: number, lastCheckpoint: string | undefined): Promise<void> {
    if (this.o.checkFinite === false) return;
    const names = [...params.keys()];
    const flags = tf.tidy(() => tf.stack(names.map((n) => tf.all(tf.isFinite(params.get(n)!)))));
    const ok = await flags.data();
    flags.dispose();
    const bad = names.filter((_, i) => !ok[i]);
    if (bad.length === 0) return;
    throw new NonFiniteLossError(
      `Trainer: step ${step}: the update made ${bad.length} parameter${bad.length > 1 ? 's' : ''} non-finite (${bad.slice(0, 3).join(', ')}${bad.length > 3 ? ', …' : ''}); ` +
        'the parameters in memory are not usable; ' +
        (lastCheckpoint ? `the last good checkpoint is ${lastCheckpoint} in ${this.o.checkpoint!.io.where}` : 'no checkpoint was written'),
      step, lastCheckpoint,
    );
  }

  private async save(step: number, rng: Rng): Promise<string> {
    const { io, keep } = this.o.checkpoint!;
    const { model, optimizer } = this.o;
    const name = checkpointName(step);
    const state = optimizer.state();
    try {
      const files = {
        'model.safetensors': await encodeSafetensors(model.params as TensorMap, { format: 'pt' }),
        'optimizer.safetensors': await encodeSafetensors(state, { optimizer: optimizer.name }),
        'trainer.json': new TextEncoder().encode(JSON.stringify({ format: FORMAT, step, rng: rng.state, seed: this.o.seed ?? 0, objective: this.o.objective?.name ?? 'nll (fine-tuning)', optimizer: optimizer.name }, null, 2)),
      };
      await io.save(name, { ...files, [CHECKSUMS]: await checksumsOf(files) });
    } finally {
      disposeMaps(state);
    }
    if (keep !== undefined) {
      const names = (await io.list()).filter((n) => stepOfName(n) >= 0).sort((a, b) => stepOfName(a) - stepOfName(b));
      for (const old of names.slice(0, Math.max(0, names.length - keep))) await io.remove(old);
    }
    return name;
  }

  /** The newest checkpoint that verifies (checksums, complete, decodable); older ones are tried when newer ones are corrupt. */
  private async restore(rng: Rng): Promise<{ step: number; name: string } | null> {
    const { io } = this.o.checkpoint!;
    const { model, optimizer } = this.o;
    const names = (await io.list()).filter((n) => stepOfName(n) >= 0).sort((a, b) => stepOfName(b) - stepOfName(a));
    if (names.length === 0) return null;
    const problems: string[] = [];
    for (const name of names) {
      const where = `${io.where}/${name}`;
      let loaded: { meta: { step: number; rng: number; optimizer?: string }; weights: TensorMap; state: TensorMap };
      try {
        loaded = await this.readCheckpoint(name, where);
      } catch (e) {
        if (!(e instanceof CorruptCheckpointError)) throw e;
        problems.push(e.message);
        this.o.onWarning?.(`${e.message}; ${name === names[names.length - 1] ? 'no older checkpoint to fall back to' : 'falling back to the previous checkpoint'}`);
        continue;
      }
      const { meta, weights, state } = loaded;
      try {
        if (meta.optimizer !== optimizer.name) throw new Error(`${where}/trainer.json: written by optimizer "${meta.optimizer}", resuming with "${optimizer.name}"`);
        for (const [pname, v] of model.params) {
          const w = weights.get(pname);
          if (!w) throw new Error(`${where}/model.safetensors: missing parameter "${pname}"`);
          if (w.shape.join() !== v.shape.join()) throw new Error(`${where}/model.safetensors: "${pname}" has shape [${w.shape}], the model [${v.shape}]`);
        }
        for (const [pname, v] of model.params) v.assign(weights.get(pname)! as Tensor);
        await optimizer.loadState(state);
      } finally {
        disposeMaps(weights, state);
      }
      rng.state = meta.rng >>> 0;
      return { step: meta.step, name };
    }
    throw new Error(`${io.where}: no usable checkpoint to resume from (${problems.join('; ')})`);
  }

  /** Reads and verifies one checkpoint; a CorruptCheckpointError when it is incomplete, fails its checksums or does not decode. */
  private async readCheckpoint(name: string, where: string) {
    const { io } = this.o.checkpoint!;
    const files = await io.load(name);
    if (!files?.['trainer.json'] || !files['model.safetensors'] || !files['optimizer.safetensors']) {
      throw new CorruptCheckpointError(`${where}: incomplete checkpoint (needs trainer.json, model.safetensors, optimizer.safetensors)`);
    }
    if (files[CHECKSUMS]) {
      let sums: Record<string, string>;
      try {
        sums = (JSON.parse(new TextDecoder().decode(files[CHECKSUMS])) as { sha256: Record<string, string> }).sha256;
      } catch {
        throw new CorruptCheckpointError(`${where}/${CHECKSUMS}: not valid JSON`);
      }
      for (const [file, want] of Object.entries(sums ?? {})) {
        if (!files[file]) throw new CorruptCheckpointError(`${where}/${file}: missing (listed in ${CHECKSUMS})`);
        if ((await sha256Hex(files[file])) !== want) throw new CorruptCheckpointError(`${where}/${file}: SHA-256 does not match ${CHECKSUMS} (a corrupt or partly written file)`);
      }
    }
    let meta: { format?: string; step?: number; rng?: number; optimizer?: string };
    try {
      meta = JSON.parse(new TextDecoder().decode(files['trainer.json'])) as typeof meta;
    } catch {
      throw new CorruptCheckpointError(`${where}/trainer.json: not valid JSON`);
    }
    if (meta.format !== FORMAT || !Number.isInteger(meta.step) || !Number.isInteger(meta.rng)) throw new CorruptCheckpointError(`${where}/trainer.json: not an ${FORMAT} file`);
    let weights: TensorMap;
    try {
      ({ tensors: weights } = decodeSafetensors(files['model.safetensors'], `${where}/model.safetensors`));
    } catch (e) {
      throw new CorruptCheckpointError((e as Error).message);
    }
    let state: TensorMap;
    try {
      ({ tensors: state } = decodeSafetensors(files['optimizer.safetensors'], `${where}/optimizer.safetensors`));
    } catch (e) {
      disposeMaps(weights);
      throw new CorruptCheckpointError((e as Error).message);
    }
    return { meta: meta as { step: number; rng: number; optimizer?: string }, weights, state };
  }
}

import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import type { Scalar, Tensor } from '@tensorflow/tfjs-core';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initBackend, type BackendName } from '@unlearn/tensors';
import { directoryCheckpointIO, memoryCheckpointIO } from './checkpoint-io.js';
import type { Objective, Optimizer, ParamMap, StepContext, TensorMap, UnlearnBatch } from '@unlearn/core';
import { NonFiniteLossError, Trainer } from './trainer.js';
import type { StepEvent } from './trainer.js';
import { createToyLM, disposeUnlearnBatch, meanNll, tokenBatch, toyGA, toyGradDiff, toyWeights } from '@unlearn/test-utils';

beforeAll(async () => {
  await initBackend((process.env.UNLEARN_TEST_BACKEND ?? 'cpu') as BackendName);
});

/** Momentum SGD that also adds seeded noise (so a resumed run must restore the RNG and the state to match). */
function noisyMomentum(lr = 0.05, beta = 0.9): Optimizer {
  let state = new Map<string, Tensor>();
  return {
    name: 'noisy-momentum',
    specificationVersion: 'v1',
    step(params: ParamMap, grads: TensorMap, ctx: StepContext) {
      let i = 0;
      for (const [name, p] of params) {
        const g = grads.get(name);
        if (!g) continue;
        const key = `${name}/buf`;
        const next = tf.tidy(() => {
          const prev = state.get(key) ?? tf.zerosLike(p);
          const noise = tf.randomNormal(p.shape, 0, 1e-3, 'float32', (ctx.seed ?? 0) + i++);
          return tf.add(tf.mul(prev, beta), tf.add(g, noise));
        });
        state.get(key)?.dispose();
        state.set(key, next);
        const updated = tf.tidy(() => tf.sub(p, tf.mul(next, ctx.lr ?? lr)));
        p.assign(updated);
        updated.dispose();
      }
      return { calls: 1 };
    },
    state: () => new Map([...state].map(([k, v]) => [k, tf.clone(v)])),
    loadState(s) {
      tf.dispose([...state.values()]);
      state = new Map([...s].map(([k, v]) => [k, tf.clone(v)]));
    },
    dispose() {
      tf.dispose([...state.values()]);
      state.clear();
    },
  };
}

const batches = (): UnlearnBatch[] => [
  { forget: tokenBatch([[1, 2, 3, 4], [2, 3, 1, 0]], [[-100, 2, 3, 4], [-100, -100, 1, 0]]), retain: tokenBatch([[5, 4, 3, 2]]) },
  { forget: tokenBatch([[0, 1, 2, 3], [3, 3, 3, 3]]), retain: tokenBatch([[1, 1, 2, 2]]) },
  { forget: tokenBatch([[4, 5, 0, 1], [1, 0, 1, 0]]), retain: tokenBatch([[0, 2, 4, 1]]) },
];

const snapshot = (params: ParamMap) => new Map([...params].map(([n, v]) => [n, Array.from(v.dataSync())]));

let tmpDirs: string[] = [];
afterEach(async () => {
  for (const d of tmpDirs) await rm(d, { recursive: true, force: true });
  tmpDirs = [];
});

describe('Trainer', () => {
  it('runs steps, reports loss parts, grad norm, lr and tokens, and leaks nothing', async () => {
    const before = tf.memory().numTensors;
    const model = createToyLM(toyWeights(6, 4, 11));
    const data = batches();
    const optimizer = noisyMomentum();
    const events: StepEvent[] = [];
    const start = snapshot(model.params);
    const result = await new Trainer({
      model, objective: toyGradDiff(1, 1), optimizer, data, steps: 5, schedule: (s) => 0.01 * (s + 1), seed: 3,
      onStep: (e) => void events.push(e),
    }).run();
    expect(result.steps).toBe(5);
    expect(events.map((e) => e.step)).toEqual([0, 1, 2, 3, 4]);
    expect(events.map((e) => e.lr)).toEqual([0.01, 0.02, 0.03, 0.04, 0.05].map((x) => expect.closeTo(x, 12)));
    for (const e of events) {
      expect(e.loss).toBeCloseTo(-e.parts.forget + e.parts.retain, 5);
      expect(e.gradNorm).toBeGreaterThan(0);
      expect(e.tokens).toBe(12);
      expect(e.stats.calls).toBe(1);
      expect(e.tokensPerSecond).toBeGreaterThan(0);
    }
    // descent on −NLL(f) + NLL(r)
    expect(events[3].loss).toBeLessThan(events[0].loss); // same batch (3 batches cycled): the objective went down
    expect(snapshot(model.params).get('lm_head.weight')).not.toEqual(start.get('lm_head.weight'));
    optimizer.dispose();
    data.forEach(disposeUnlearnBatch);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('clips the global gradient norm', async () => {
    const before = tf.memory().numTensors;
    const model = createToyLM(toyWeights(6, 4, 11));
    const data = batches();
    const seen: number[] = [];
    const spy: Optimizer = {
      name: 'spy', step: (_p, grads) => {
        seen.push(Math.sqrt([...grads.values()].reduce((s, g) => s + tf.tidy(() => tf.sum(tf.square(g)).dataSync()[0]), 0)));
        return {};
      },
      state: () => new Map(), loadState: () => {}, dispose: () => {},
    };
    const events: StepEvent[] = [];
    await new Trainer({ model, objective: toyGA, optimizer: spy, data, steps: 2, maxGradNorm: 0.05, onStep: (e) => void events.push(e) }).run();
    expect(events[0].gradNorm).toBeGreaterThan(0.05);
    seen.forEach((n) => expect(n).toBeCloseTo(0.05, 4));
    data.forEach(disposeUnlearnBatch);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('freezes parameters missing from the mask (no gradient is computed for them)', async () => {
    const before = tf.memory().numTensors;
    const model = createToyLM(toyWeights(6, 4, 11));
    const data = batches();
    const mask = new Map([['lm_head.weight', tf.ones([6, 4])]]);
    const start = snapshot(model.params);
    const names: string[][] = [];
    const spy = noisyMomentum();
    const wrapped: Optimizer = { ...spy, step: (p, g, c) => (names.push([...g.keys()]), spy.step(p, g, c)) };
    await new Trainer({ model, objective: toyGA, optimizer: wrapped, data, steps: 2, mask }).run();
    expect(names).toEqual([['lm_head.weight'], ['lm_head.weight']]);
    const after = snapshot(model.params);
    expect(after.get('model.embed_tokens.weight')).toEqual(start.get('model.embed_tokens.weight'));
    expect(after.get('lm_head.weight')).not.toEqual(start.get('lm_head.weight'));
    spy.dispose();
    tf.dispose([...mask.values()]);
    data.forEach(disposeUnlearnBatch);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('resumes from a checkpoint to exactly the uninterrupted result (directory IO, iterable data replayed)', async () => {
    const before = tf.memory().numTensors;
    const weights = toyWeights(6, 4, 5);
    const data = batches();
    const options = (model: ReturnType<typeof createToyLM>, optimizer: Optimizer) => ({ model, optimizer, objective: toyGradDiff(1, 0.5), data, steps: 7, seed: 99 });

    const m1 = createToyLM(weights);
    const o1 = noisyMomentum();
    await new Trainer(options(m1, o1)).run();
    const uninterrupted = snapshot(m1.params);

    const dir = await mkdtemp(path.join(tmpdir(), 'unlearn-ckpt-'));
    tmpDirs.push(dir);
    const io = directoryCheckpointIO(dir);
    const m2 = createToyLM(weights);
    const o2 = noisyMomentum();
    const crash = new Trainer({ ...options(m2, o2), checkpoint: { io, every: 2, keep: 2 }, onStep: (e) => { if (e.step === 4) throw new Error('simulated crash'); } });
    await expect(crash.run()).rejects.toThrow('simulated crash');
    expect((await readdir(dir)).sort()).toEqual(['step-000002', 'step-000004']);
    expect((await readdir(path.join(dir, 'step-000004'))).sort()).toEqual(['checksums.json', 'model.safetensors', 'optimizer.safetensors', 'trainer.json']);

    // a fresh process: the original weights, a fresh optimizer, resume
    const m3 = createToyLM(weights);
    const o3 = noisyMomentum();
    const events: number[] = [];
    const result = await new Trainer({ ...options(m3, o3), checkpoint: { io, every: 2, keep: 2 }, onStep: (e) => void events.push(e.step) }).run({ resume: true });
    expect(events).toEqual([4, 5, 6]);
    expect(result.steps).toBe(7);
    expect(result.checkpoint).toBe('step-000007');
    const resumed = snapshot(m3.params);
    for (const [name, values] of uninterrupted) expect(resumed.get(name)).toEqual(values); // bit-exact
    expect((await readdir(dir)).filter((f) => f.startsWith('.'))).toEqual([]); // no temporary directories left
    for (const o of [o1, o2, o3]) o.dispose();
    for (const m of [m1, m2, m3]) m.dispose();
    data.forEach(disposeUnlearnBatch);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('resume: a corrupt newest checkpoint (SHA-256 mismatch) falls back to the previous one; stale temporary folders are swept', async () => {
    const before = tf.memory().numTensors;
    const weights = toyWeights(6, 4, 5);
    const data = batches();
    const options = (model: ReturnType<typeof createToyLM>, optimizer: Optimizer) => ({ model, optimizer, objective: toyGradDiff(1, 0.5), data, steps: 7, seed: 99 });
    const m1 = createToyLM(weights);
    const o1 = noisyMomentum();
    await new Trainer(options(m1, o1)).run();
    const uninterrupted = snapshot(m1.params);

    const dir = await mkdtemp(path.join(tmpdir(), 'unlearn-ckpt-'));
    tmpDirs.push(dir);
    const io = directoryCheckpointIO(dir);
    const m2 = createToyLM(weights);
    const o2 = noisyMomentum();
    await expect(new Trainer({ ...options(m2, o2), checkpoint: { io, every: 2, keep: 2 }, onStep: (e) => { if (e.step === 4) throw new Error('simulated crash'); } }).run()).rejects.toThrow('simulated crash');
    // flip one byte of the newest checkpoint's weights (past the header, so it still decodes) and leave the debris of a killed write
    const file = path.join(dir, 'step-000004', 'model.safetensors');
    const bytes = await readFile(file);
    bytes[bytes.length - 3] ^= 0xff;
    await writeFile(file, bytes);
    await mkdir(path.join(dir, '.tmp-step-000006-12345-1700000000000'));
    await writeFile(path.join(dir, '.tmp-step-000006-12345-1700000000000', 'model.safetensors'), 'half written');

    const m3 = createToyLM(weights);
    const o3 = noisyMomentum();
    const events: number[] = [];
    const warnings: string[] = [];
    const result = await new Trainer({ ...options(m3, o3), checkpoint: { io, every: 2, keep: 2 }, onStep: (e) => void events.push(e.step), onWarning: (w) => void warnings.push(w) }).run({ resume: true });
    expect(warnings).toEqual([
      `${dir}: removed .tmp-step-000006-12345-1700000000000 (left by an interrupted write)`,
      `${dir}/step-000004/model.safetensors: SHA-256 does not match checksums.json (a corrupt or partly written file); falling back to the previous checkpoint`,
    ]);
    expect(events).toEqual([2, 3, 4, 5, 6]);
    expect(result.steps).toBe(7);
    const resumed = snapshot(m3.params);
    for (const [name, values] of uninterrupted) expect(resumed.get(name)).toEqual(values);
    expect((await readdir(dir)).sort()).toEqual(['step-000006', 'step-000007']);

    // every checkpoint corrupt: an error naming each, not a silent fresh start
    for (const name of ['step-000006', 'step-000007']) await writeFile(path.join(dir, name, 'trainer.json'), '{');
    const m4 = createToyLM(weights);
    const o4 = noisyMomentum();
    await expect(new Trainer({ ...options(m4, o4), checkpoint: { io, every: 2 } }).run({ resume: true })).rejects.toThrow(
      `${dir}: no usable checkpoint to resume from (${dir}/step-000007/trainer.json: SHA-256 does not match checksums.json (a corrupt or partly written file); ${dir}/step-000006/trainer.json: SHA-256`,
    );
    for (const o of [o1, o2, o3, o4]) o.dispose();
    for (const m of [m1, m2, m3, m4]) m.dispose();
    data.forEach(disposeUnlearnBatch);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stops when an update makes a parameter non-finite (finite loss and gradient, huge step): no checkpoint of that state', async () => {
    const before = tf.memory().numTensors;
    const model = createToyLM(toyWeights(6, 4, 8));
    const data = batches();
    const io = memoryCheckpointIO();
    const inner = noisyMomentum();
    // a well-behaved optimizer until step 3, whose update then overflows float32
    const exploding: Optimizer = {
      ...inner,
      step: (params, grads, ctx) => {
        const stats = inner.step(params, grads, ctx);
        if (ctx.step === 3) for (const p of params.values()) tf.tidy(() => p.assign(tf.mul(p, 1e38).mul(1e38)));
        return stats;
      },
    };
    const err = await new Trainer({ model, objective: toyGA, optimizer: exploding, data, steps: 6, checkpoint: { io, every: 2 } }).run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteLossError);
    expect((err as Error).message).toMatch(/^Trainer: step 3: the update made \d parameters? non-finite \(.*\); the parameters in memory are not usable; the last good checkpoint is step-000002 in memory$/);
    expect(await io.list()).toEqual(['step-000002']);
    inner.dispose();
    model.dispose();
    data.forEach(disposeUnlearnBatch);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stops on a NaN loss with a clear error, before updating, and keeps the last good checkpoint', async () => {
    const before = tf.memory().numTensors;
    const model = createToyLM(toyWeights(6, 4, 8));
    const data = batches();
    const io = memoryCheckpointIO();
    const nanAt3: Objective = {
      name: 'nan-at-3', needs: {},
      loss: (m, b, ctx) => tf.tidy(() => (ctx.step === 3 ? tf.div(toyGA.loss(m, b, ctx) as Scalar, 0) : toyGA.loss(m, b, ctx)) as Scalar),
    };
    // −x/0 = −Inf or NaN: make it NaN explicitly
    const nanObjective: Objective = { ...nanAt3, loss: (m, b, ctx) => tf.tidy(() => (ctx.step === 3 ? tf.mul(toyGA.loss(m, b, ctx) as Scalar, NaN) : toyGA.loss(m, b, ctx)) as Scalar) };
    const optimizer = noisyMomentum();
    let afterStep2: Map<string, number[]> | undefined;
    const trainer = new Trainer({ model, objective: nanObjective, optimizer, data, steps: 6, checkpoint: { io, every: 2 }, onStep: (e) => { if (e.step === 2) afterStep2 = snapshot(model.params); } });
    const err = await trainer.run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteLossError);
    expect((err as Error).message).toBe('Trainer: step 3: loss is NaN; stopped before updating the parameters; the last good checkpoint is step-000002 in memory');
    expect((err as NonFiniteLossError).lastCheckpoint).toBe('step-000002');
    expect(await io.list()).toEqual(['step-000002']);
    expect(snapshot(model.params)).toEqual(afterStep2);
    optimizer.dispose();
    data.forEach(disposeUnlearnBatch);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('opens no gradient tape for an optimizer with usesGradients: false', async () => {
    const before = tf.memory().numTensors;
    const model = createToyLM(toyWeights(6, 4, 8));
    const data = batches();
    const depths: number[] = [];
    const engineState = () => (tf.engine() as unknown as { state: { gradientDepth: number } }).state;
    const spyObjective: Objective = { ...toyGA, loss: (m, b, c) => (depths.push(engineState().gradientDepth), toyGA.loss(m, b, c)) };
    const losses: number[] = [];
    const zo: Optimizer = {
      name: 'zo-spy', usesGradients: false,
      step: async (_p, grads, ctx) => {
        expect(grads.size).toBe(0);
        losses.push(await ctx.probe!.lossValue());
        return { loss: losses[losses.length - 1] };
      },
      state: () => new Map(), loadState: () => {}, dispose: () => {},
    };
    const events: StepEvent[] = [];
    await new Trainer({ model, objective: spyObjective, optimizer: zo, data, steps: 3, onStep: (e) => void events.push(e) }).run();
    expect(depths.length).toBe(3);
    expect(depths.every((d) => d === 0)).toBe(true);
    expect(events.map((e) => e.loss)).toEqual(losses);
    expect(events[0].gradNorm).toBeUndefined();
    // control: a gradient optimizer evaluates the objective inside a tape
    depths.length = 0;
    const grad = noisyMomentum();
    await new Trainer({ model, objective: spyObjective, optimizer: grad, data, steps: 1 }).run();
    expect(depths).toEqual([1]);
    grad.dispose();
    data.forEach(disposeUnlearnBatch);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("hands the probe the step's loss-bearing token count, read with the loss (batchTokens downloads nothing)", async () => {
    const before = tf.memory().numTensors;
    const model = createToyLM(toyWeights(6, 4, 8));
    const data = batches();
    const seen: { tokens: number; downloads: number; zeroth: boolean }[] = [];
    const counting = async (ctx: StepContext, zeroth: boolean) => {
      const data = tf.Tensor.prototype.data;
      let downloads = 0;
      tf.Tensor.prototype.data = function (this: Tensor) {
        downloads++;
        return data.call(this);
      } as typeof data;
      try {
        seen.push({ tokens: await ctx.probe!.batchTokens(), downloads, zeroth });
      } finally {
        tf.Tensor.prototype.data = data;
      }
    };
    const spy = (zeroth: boolean): Optimizer => ({
      name: 'count-spy', usesGradients: !zeroth,
      step: async (_p, _g, ctx) => (await counting(ctx, zeroth), { loss: 0 }),
      state: () => new Map(), loadState: () => {}, dispose: () => {},
    });
    for (const zeroth of [false, true]) await new Trainer({ model, objective: toyGA, optimizer: spy(zeroth), data, steps: 3 }).run();
    // shifted labels ≠ -100: batch 0 forget 3 + 2, retain 3; batches 1 and 2 forget 3 + 3, retain 3
    expect(seen.map((s) => s.tokens)).toEqual([8, 9, 9, 8, 9, 9]);
    expect(seen.every((s) => s.downloads === 0)).toBe(true);
    data.forEach(disposeUnlearnBatch);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('validates its options and batches with one-line errors', async () => {
    const model = createToyLM(toyWeights(6, 4, 8));
    const base = { model, objective: toyGA, optimizer: noisyMomentum(), data: [] as UnlearnBatch[] };
    expect(() => new Trainer({ ...base })).toThrow('Trainer: give exactly one of `steps` and `epochs`');
    expect(() => new Trainer({ ...base, steps: 0 })).toThrow('Trainer: steps must be a positive integer, got 0');
    expect(() => new Trainer({ ...base, data: () => base.data[0], epochs: 1 })).toThrow(/epochs` needs iterable data/);
    expect(() => new Trainer({ ...base, steps: 1, checkpoint: { io: memoryCheckpointIO(), every: 1, keep: 0 } })).toThrow('Trainer: checkpoint.keep must be a positive integer, got 0');
    await expect(new Trainer({ ...base, steps: 2 }).run()).rejects.toThrow('Trainer: data yielded no batches in epoch 0');
    const data = batches();
    await expect(new Trainer({ ...base, objective: { ...toyGA, needs: { alternate: true } }, data, steps: 1 }).run())
      .rejects.toThrow('Trainer: step 0: objective "toy-ga" needs an alternate batch; this batch has none');
    // fine-tuning batches need no objective, and an objective refuses them (and vice versa)
    const ft = [{ train: tokenBatch([[1, 2, 3, 4]]) }];
    await expect(new Trainer({ model, optimizer: noisyMomentum(), data: ft as never, steps: 1, objective: toyGA }).run())
      .rejects.toThrow(/^Trainer: step 0: got a fine-tuning batch \(\{ train \}\) and an objective \("toy-ga"\)/);
    await expect(new Trainer({ model, optimizer: noisyMomentum(), data: data as never, steps: 1 }).run())
      .rejects.toThrow('Trainer: step 0: got an unlearning batch ({ forget, … }) but no objective');
    ft.forEach((b) => disposeUnlearnBatch({ forget: b.train }));
    const badMask = new Map([['nope', tf.ones([1])]]);
    await expect(new Trainer({ ...base, data, steps: 1, mask: badMask }).run()).rejects.toThrow('Trainer: mask names "nope", which is not a model parameter');
    tf.dispose([...badMask.values()]);
    data.forEach(disposeUnlearnBatch);
    model.dispose();
  });

  it('runs epochs over an async iterable and takes ownership of function-made batches', async () => {
    const before = tf.memory().numTensors;
    const model = createToyLM(toyWeights(6, 4, 8));
    const optimizer = noisyMomentum();
    const data = batches();
    async function* gen() {
      yield* data;
    }
    const steps: [number, number][] = [];
    await new Trainer({ model, objective: toyGA, optimizer, data: { [Symbol.asyncIterator]: gen }, epochs: 2, onStep: (e) => void steps.push([e.step, e.epoch]) }).run();
    expect(steps).toEqual([[0, 0], [1, 0], [2, 0], [3, 1], [4, 1], [5, 1]]);
    // function data: each batch is created per step and disposed by the Trainer
    await new Trainer({ model, objective: toyGA, optimizer, data: (s) => ({ forget: tokenBatch([[s % 6, 1, 2, 3]]) }), steps: 3 }).run();
    optimizer.dispose();
    data.forEach(disposeUnlearnBatch);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('fine-tunes on { train } batches: the loss is the mean NLL of train, descending; the probe counts train tokens', async () => {
    const before = tf.memory().numTensors;
    const model = createToyLM(toyWeights(6, 4, 5));
    // labels: the prompt token is ignored; shifted loss-bearing tokens per row = 3 and 2 → B = 5
    const batch = { train: tokenBatch([[1, 2, 3, 4], [2, 3, 1, 0]], [[-100, 2, 3, 4], [-100, -100, 1, 0]]) };
    const expected = tf.tidy(() => meanNll(model, batch.train).dataSync()[0]); // ordinary-ops NLL of the same batch
    const events: StepEvent[] = [];
    const seenTokens: number[] = [];
    const sgd: Optimizer = {
      name: 'plain-sgd', specificationVersion: 'v1',
      step: async (params, grads, ctx) => {
        seenTokens.push(await ctx.probe!.batchTokens());
        for (const [name, p] of params) {
          const next = tf.tidy(() => tf.sub(p, tf.mul(grads.get(name)!, 0.5)));
          p.assign(next);
          next.dispose();
        }
        return {};
      },
      state: () => new Map(), loadState: () => {}, dispose: () => {},
    };
    await new Trainer({ model, optimizer: sgd, data: [batch], steps: 6, onStep: (e) => void events.push(e) }).run();
    expect(events[0].loss).toBeCloseTo(expected, 5);
    expect(events[0].parts).toEqual({});
    expect(events[0].tokens).toBe(8);
    for (let i = 1; i < events.length; i++) expect(events[i].loss).toBeLessThan(events[i - 1].loss);
    expect(seenTokens).toEqual([5, 5, 5, 5, 5, 5]);
    disposeUnlearnBatch({ forget: batch.train });
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

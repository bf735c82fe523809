// Bit-reproducibility of training on `native`: the same few steps of a tiny Llama-style model (embedding gather,
// RMSNorm, RoPE, causal attention, SwiGLU, tied logits, pick-log-prob; fused Sophia updates) run twice give the same
// bits — with the addon's default BLAS policy (the timing-tuned own-vs-BLAS choice made two identical runs round
// differently: "auto" is now opt-in), with every pool array NaN-poisoned (a kernel reading memory before writing it
// would change the result), and on 2 threads.
import { execFileSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { causalSoftmax, matmul, pickLogProb, rmsNorm, rope, swiglu } from '@unlearn/tensors';
import { ADDON_PATH, fusedSophia, loadAddon } from './index.js';
import type { AddonInfo, NativeBackend } from './index.js';
import { addonBuilt as built, useNativeBackend } from './test-utils/native-suite.js';
import { randn } from './test-utils/parity.js';

// rows B·T = 64: every gemm is ≥ 1e6 flops (the size the BLAS is considered for) and logits, the embedding gradient
// and the MLP activations are ≥ 16K floats (pooled)
const C = { V: 256, D: 128, H: 4, T: 32, B: 2, F: 256, steps: 3 };

/** addon.info() in a fresh process with no UNLEARN_NATIVE_* set: the defaults a CLI run gets. */
function defaultInfo(): AddonInfo {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('UNLEARN_NATIVE_')));
  const out = execFileSync(process.execPath, ['-e', `process.stdout.write(JSON.stringify(require(${JSON.stringify(ADDON_PATH)}).info()))`],
    { env, encoding: 'utf8' });
  return JSON.parse(out) as AddonInfo;
}

/** `steps` Sophia steps from a fixed init; returns every parameter's bytes afterwards, and the losses. */
function train(): { params: Map<string, Float32Array>; losses: number[] } {
  const { V, D, H, T, B, F, steps } = C;
  const HD = D / H, BT = B * T;
  const shapes: Record<string, number[]> = { emb: [V, D], norm1: [D], wqkv: [D, 3 * D], wo: [D, D], norm2: [D], wgu: [D, 2 * F], wdown: [F, D], normf: [D] };
  let seed = 7;
  const vars = Object.entries(shapes).map(([name, s]) => {
    const n = s.reduce((a, b) => a * b, 1);
    const v = name.startsWith('norm') ? Float32Array.from(randn(n, seed++, 0.1), (e) => 1 + e) : randn(n, seed++, 0.1);
    return tf.tidy(() => tf.variable(tf.tensor(v, s), true, `det_${name}_${Math.random()}`));
  });
  const p = (name: string) => vars[Object.keys(shapes).indexOf(name)];
  const moments = vars.map((v) => tf.tidy(() => [tf.variable(tf.zerosLike(v)), tf.variable(tf.zerosLike(v))] as const));
  const ids = tf.tensor1d(Int32Array.from({ length: BT }, (_, i) => (i * 37 + 5) % V), 'int32');
  const labels = tf.tensor1d(Int32Array.from({ length: BT }, (_, i) => (i * 11 + 3) % V), 'int32');
  const [cos, sin] = tf.tidy(() => {
    const pos = tf.tile(tf.range(0, T), [B]).reshape([BT, 1]);
    const freq = tf.pow(10000, tf.div(tf.range(0, HD / 2), -HD / 2)).reshape([1, HD / 2]);
    const ang = tf.concat([tf.mul(pos, freq), tf.mul(pos, freq)], 1).reshape([BT, 1, HD]);
    return [tf.cos(ang), tf.sin(ang)];
  });
  const heads = (t: tf.Tensor) => tf.reshape(tf.transpose(tf.reshape(t, [B, T, H, HD]), [0, 2, 1, 3]), [B * H, T, HD]);
  const loss = () => {
    let h = tf.gather(p('emb'), ids) as tf.Tensor2D;
    const [q, k, v] = tf.split(matmul(rmsNorm(h, p('norm1'), 1e-5), p('wqkv')), 3, 1) as tf.Tensor2D[];
    const att = causalSoftmax(tf.matMul(heads(rope(q, H, cos, sin)), heads(rope(k, H, cos, sin)), false, true), 1 / Math.sqrt(HD));
    const o = tf.reshape(tf.transpose(tf.reshape(matmul(att, heads(v)), [B, H, T, HD]), [0, 2, 1, 3]), [BT, D]);
    h = tf.add(h, matmul(o, p('wo')));
    const [g, u] = tf.split(matmul(rmsNorm(h, p('norm2'), 1e-5), p('wgu')), 2, 1);
    h = tf.add(h, matmul(swiglu(g, u), p('wdown')));
    const logits = matmul(rmsNorm(h, p('normf'), 1e-5), p('emb'), false, true) as tf.Tensor2D;
    return tf.neg(tf.mean(pickLogProb(logits, labels))) as tf.Scalar;
  };
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const { value, grads } = tf.variableGrads(loss, vars);
    losses.push(value.dataSync()[0]);
    vars.forEach((v, i) => {
      const g = grads[v.name];
      const hHat = tf.square(g); // a stand-in curvature estimate: deterministic, same shape
      fusedSophia(v, g, moments[i][0], moments[i][1], { lr: 1e-2, rho: 0.05, weightDecay: 0.1, hessianEstimate: hHat });
      hHat.dispose();
    });
    tf.dispose([value, ...Object.values(grads)]);
  }
  const params = new Map(Object.keys(shapes).map((name) => [name, Float32Array.from(p(name).dataSync())]));
  tf.dispose([...vars, ...moments.flat(), ids, labels, cos, sin]);
  return { params, losses };
}

function expectSameBits(a: ReturnType<typeof train>, b: ReturnType<typeof train>, what: string) {
  expect(b.losses, `${what}: losses`).toEqual(a.losses);
  for (const [name, v] of a.params) {
    const w = b.params.get(name)!;
    const differ = v.findIndex((x, i) => !Object.is(x, w[i]));
    expect(differ, `${what}: ${name} first differs at ${differ} (${v[differ]} vs ${w[differ]})`).toBe(-1);
  }
}

describe.skipIf(!built)('native training is bit-reproducible', () => {
  useNativeBackend();

  it('the default BLAS policy is off (own kernel only): a timed choice would depend on machine load', () => {
    const info = defaultInfo();
    expect(info.blas.policy).toBe('off');
    if (info.blas.library) expect(['openblas', 'blis']).toContain(info.blas.library); // opened, for configure({ blas })
  });

  it('two identical runs agree bit for bit (default policy, 1 and 2 threads), also with every pool array NaN-poisoned', async () => {
    const addon = loadAddon();
    const before = addon.info();
    await tf.setBackend('native');
    const pool = (tf.backend() as NativeBackend).pool;
    try {
      addon.configure({ blas: defaultInfo().blas.policy });
      for (const threads of [1, 2]) {
        addon.configure({ threads });
        const n0 = tf.memory().numTensors;
        const first = train();
        expect(first.losses.every(Number.isFinite) && first.losses[2] !== first.losses[0], 'the steps train').toBe(true);
        expectSameBits(first, train(), `${threads} threads, second run`);
        pool.poison = true;
        expect([...pool.alloc(3)].every(Number.isNaN), 'poisoned arrays are NaN').toBe(true);
        expectSameBits(first, train(), `${threads} threads, poisoned pool`);
        pool.poison = false;
        expect(tf.memory().numTensors, 'no tensor leaked').toBe(n0);
      }
    } finally {
      pool.poison = false;
      addon.configure({ threads: before.threads, blas: before.blas.policy });
    }
  });
});

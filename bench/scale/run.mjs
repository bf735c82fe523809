// Real model sizes on the native backend against PyTorch (Debian python3-torch, /usr/bin/python3), in one run:
//   llama110M  Llama 12×768, FF 2048, vocab 32000, tied head (109.5M params), fp32 HF folder written by saveModel
//   llama1B    Llama-3.2-1B's shape (16×2048, FF 8192, 32 heads / 8 kv heads, vocab 128256, tied; 1.24B params), a bf16
//              HF folder written by torch_scale.py (plain RoPE: rope_scaling left out; max_position_embeddings 2048)
// Both random init. For each model: load time and peak RSS; full fine-tuning (AdamW) and LoRA (r=8, α=16 on q_proj,
// v_proj; AdamW on the adapters) step time, tokens/s and peak RSS at 1 and 2 threads; forward and forward+backward time
// (backward/forward ratio) for full, LoRA and norm-gains-only training; zo-sgd (in-place MeZO) peak RSS; LoRA with
// gradient checkpointing; PyTorch full FT and a hand-written LoRA on the same shapes and threads.
// Every measurement runs in its own process (peak RSS = that process's VmHWM / ru_maxrss). A scenario whose estimated
// memory exceeds MemAvailable is reported as skipped, not run.
// Usage (after `pnpm build`): node bench/scale/run.mjs   (or `pnpm bench:scale`)
// Env: MODELS (llama110M,llama1B), THREADS ("1,2"), STEPS (timed steps, default 5; 1 warm-up step first), SCENARIOS
//      (a subset of load,full,torch-full,lora,torch-lora,lora-ckpt,norms,zo), LABEL=x writes results-x.json/.md,
//      DIR (where the HF folders are written, default /tmp/unlearn-bench-scale), PROFILE=0 skips the kernel profile.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const env = process.env;
const GiB = 2 ** 30;

export const MODELS = {
  // a smoke-test shape (MODELS=tiny), not part of the default run
  tiny: {
    config: {
      model_type: 'llama', vocab_size: 512, hidden_size: 64, intermediate_size: 172, num_hidden_layers: 2,
      num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16, max_position_embeddings: 256, rms_norm_eps: 1e-5,
      rope_theta: 10000, tie_word_embeddings: true,
    },
    dtype: 'BF16', batch: 2, seq: 32,
  },
  llama110M: {
    config: {
      model_type: 'llama', vocab_size: 32000, hidden_size: 768, intermediate_size: 2048, num_hidden_layers: 12,
      num_attention_heads: 12, num_key_value_heads: 12, head_dim: 64, max_position_embeddings: 512, rms_norm_eps: 1e-5,
      rope_theta: 10000, tie_word_embeddings: true,
    },
    dtype: 'F32', batch: 1, seq: 128,
  },
  llama1B: {
    config: {
      model_type: 'llama', vocab_size: 128256, hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: 16,
      num_attention_heads: 32, num_key_value_heads: 8, head_dim: 64, max_position_embeddings: 2048, rms_norm_eps: 1e-5,
      rope_theta: 500000, tie_word_embeddings: true, initializer_range: 0.02,
    },
    dtype: 'BF16', batch: 1, seq: 64,
  },
};
const LORA = { r: 8, alpha: 16, targets: ['q_proj', 'v_proj'] };

const paramCount = (c) => {
  const D = c.hidden_size, I = c.intermediate_size, hd = c.head_dim, q = c.num_attention_heads * hd, kv = c.num_key_value_heads * hd;
  return c.vocab_size * D * (c.tie_word_embeddings ? 1 : 2) + D + c.num_hidden_layers * (2 * D + D * q + 2 * D * kv + q * D + 3 * D * I);
};
/** Rough bytes a scenario holds: fp32 weights × (1 + grads + AdamW's two moments for the trained part) + 1 GiB slack. */
const estimate = (c, scenario) => {
  const w = paramCount(c) * 4;
  const factor = { full: 4, 'torch-full': 4, lora: 1.15, 'lora-ckpt': 1.1, 'torch-lora': 1.15, norms: 1.2, zo: 1.1, load: 1.05 }[scenario] ?? 2;
  return w * factor + GiB;
};
const memAvailable = () => {
  const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) * 1024 : os.freemem();
};
const status = (key) => {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function libs() {
  const dist = (p) => pathToFileURL(path.join(repo, 'packages', p, 'dist/index.js')).href;
  for (const p of ['tensors', 'backend-native', 'models', 'optim', 'train', 'core']) {
    if (!existsSync(path.join(repo, 'packages', p, 'dist/index.js'))) throw new Error(`packages/${p}/dist is missing: run \`pnpm build\` first`);
  }
  const [tensors, native, models, optim, train, core] = await Promise.all(['tensors', 'backend-native', 'models', 'optim', 'train', 'core'].map((p) => import(dist(p))));
  const tf = createRequire(path.join(repo, 'packages/tensors/package.json'))('@tensorflow/tfjs-core');
  return { tf, tensors, native, models, optim, train, core };
}

// ---------------- child: one scenario on the native backend ----------------
async function child(req) {
  const L = await libs();
  const { tf, tensors, native, models, optim, train, core } = L;
  native.registerNativeBackend({ threads: req.threads });
  await tensors.initBackend('native');
  const out = { scenario: req.scenario, model: req.model, threads: req.threads };
  const t0 = performance.now();
  const base = await models.loadModel(req.dir);
  out.loadSeconds = (performance.now() - t0) / 1000;
  out.rssAfterLoad = status('VmRSS');
  out.params = [...base.params.values()].reduce((s, v) => s + v.size, 0);
  if (req.scenario === 'load') {
    out.peakRss = status('VmHWM');
    return out;
  }
  let model = base;
  if (req.scenario === 'lora' || req.scenario === 'lora-ckpt') {
    model = models.applyLora(base, LORA);
    model.gradientCheckpointing = req.scenario === 'lora-ckpt';
  }
  if (req.scenario === 'norms') for (const [n, v] of base.params) v.trainable = n.endsWith('norm.weight');
  const trainable = [...model.params].filter(([, v]) => v.trainable);
  out.trainableParams = trainable.reduce((s, [, v]) => s + v.size, 0);
  const { batch: B, seq: T, config } = MODELS[req.model];
  const ids = tf.tidy(() => tf.cast(tf.mul(tf.randomUniform([B, T], 0, 1, 'float32', 7), config.vocab_size - 1), 'int32'));
  const tokenBatch = { inputIds: ids, attentionMask: tf.onesLike(ids), labels: tf.clone(ids) };
  const loss = () => core.batchNll(model, tokenBatch);
  const vars = trainable.map(([, v]) => v);
  const timeIt = async (f, n) => {
    const xs = [];
    for (let i = 0; i < n; i++) {
      const s = performance.now();
      await f();
      xs.push((performance.now() - s) / 1000);
    }
    return xs;
  };
  const forward = async () => {
    const l = tf.tidy(loss);
    await l.data();
    l.dispose();
  };
  const fwdbwd = async () => {
    const { value, grads } = tf.variableGrads(loss, vars);
    await value.data();
    await Promise.all(Object.values(grads).map((g) => g.data()));
    tf.dispose([value, ...Object.values(grads)]);
  };
  if (req.scenario !== 'zo') {
    // warm-up once, then forward and forward+backward
    await forward();
    out.forwardSeconds = median(await timeIt(forward, req.steps));
    out.fwdbwdSeconds = median(await timeIt(fwdbwd, req.steps));
    out.backwardOverForward = (out.fwdbwdSeconds - out.forwardSeconds) / out.forwardSeconds;
    if (req.profile) {
      const prof = await tf.profile(fwdbwd);
      const agg = {};
      for (const k of prof.kernels) {
        if (k.name.endsWith('__op')) continue;
        const a = (agg[k.name] ??= { ms: 0, n: 0 });
        a.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
        a.n++;
      }
      out.profile = Object.entries(agg).sort((a, b) => b[1].ms - a[1].ms).slice(0, 12).map(([name, a]) => ({ name, ms: +a.ms.toFixed(1), n: a.n }));
      // is dW computed for frozen weights? count matmul kernels whose output has a frozen 2-D weight's shape
      const frozenShapes = new Set([...base.params.values()].filter((v) => !v.trainable && v.rank === 2).map((v) => v.shape.join('x')));
      const mm = prof.kernels.filter((k) => k.name === 'BatchMatMul' || k.name === '_FusedMatMul' || k.name === 'MatMul');
      out.frozenWeightShapedMatmuls = mm.filter((k) => frozenShapes.has((k.outputShapes?.[0] ?? []).slice(-2).join('x'))).length;
      out.matmulKernels = mm.length;
    }
  }
  if (req.scenario !== 'norms') {
    const optimizer = req.scenario === 'zo' ? optim.zoSgd({ lr: 1e-6, mu: 1e-3 }) : optim.adamw({ lr: 1e-4 });
    const seconds = [];
    await new train.Trainer({
      model, optimizer, data: () => ({ train: tokenBatch }), steps: 1 + req.steps, disposeBatches: false, seed: 1,
      onStep: (e) => void seconds.push(e.seconds),
    }).run();
    optimizer.dispose();
    out.stepSeconds = median(seconds.slice(1));
    out.allStepSeconds = seconds;
    out.tokensPerSecond = (B * T) / out.stepSeconds;
  }
  out.peakRss = status('VmHWM');
  // the native backend keeps up to 1 GiB of released arrays for reuse (backend-native/src/buffer_pool.ts): part of the RSS
  out.nativePoolBytes = tf.backend().pool?.pooledBytes;
  tf.dispose([ids, tokenBatch.attentionMask, tokenBatch.labels]);
  if (model !== base) model.dispose();
  base.dispose();
  return out;
}

// ---------------- parent ----------------
function run(cmd, args, childEnv) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('exit', (code, signal) => {
      const last = stdout.trim().split('\n').pop();
      try {
        resolve(JSON.parse(last));
      } catch {
        resolve({ error: `exit ${code ?? signal}: ${(stderr.trim().split('\n').slice(-3).join(' ') || stdout.slice(-300)).slice(0, 400)}` });
      }
    });
  });
}

async function ensureFolders(dir, names) {
  const L = await libs();
  const { tf, tensors, models } = L;
  await tensors.initBackend('cpu');
  const folders = {};
  for (const name of names) {
    const spec = MODELS[name];
    const folder = path.join(dir, name);
    folders[name] = folder;
    if (existsSync(path.join(folder, 'config.json'))) continue;
    const t0 = performance.now();
    if (spec.dtype === 'F32') {
      const m = models.createModel(spec.config, { seed: 0 });
      await models.saveModel(m, folder);
      m.dispose();
    } else {
      const r = await run('/usr/bin/python3', [path.join(here, 'torch_scale.py'), JSON.stringify({ cmd: 'write', config: spec.config, dir: folder })], env);
      if (r.error) throw new Error(`writing ${folder}: ${r.error}`);
    }
    process.stderr.write(`wrote ${folder} (${spec.dtype}) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    void tf;
  }
  return folders;
}

async function cpuInfo() {
  const txt = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const f = (k) => new RegExp(`^${k}\\s*:\\s*(.*)$`, 'm').exec(txt)?.[1];
  const flags = (f('flags') ?? '').split(' ');
  const isa = ['sse4_2', 'avx', 'avx2', 'fma', 'avx512f', 'avx512bw', 'avx512_vnni', 'avx512_bf16', 'amx_tile'].filter((x) => flags.includes(x));
  const cache = (lvl) => {
    try {
      const base = '/sys/devices/system/cpu/cpu0/cache';
      for (let i = 0; i < 6; i++) {
        const idx = path.join(base, `index${i}`);
        if (!existsSync(idx)) break;
        const level = readFileSync(path.join(idx, 'level'), 'utf8').trim();
        const type = readFileSync(path.join(idx, 'type'), 'utf8').trim();
        if (level === String(lvl) && type !== 'Instruction') return readFileSync(path.join(idx, 'size'), 'utf8').trim();
      }
    } catch { /* not on Linux */ }
    return 'unknown';
  };
  return { model: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, isa, caches: { L1d: cache(1), L2: cache(2), L3: cache(3) } };
}

async function main() {
  const names = (env.MODELS || 'llama110M,llama1B').split(',');
  const threads = (env.THREADS || '1,2').split(',').map(Number);
  const steps = Number(env.STEPS || 5);
  const dir = env.DIR || '/tmp/unlearn-bench-scale';
  const started = new Date().toISOString();
  const load0 = os.loadavg()[0];
  const cpu = await cpuInfo();
  process.stderr.write(`CPU ${cpu.model}, ${cpu.cores} cores, ISA ${cpu.isa.join(' ')}, L1d ${cpu.caches.L1d} L2 ${cpu.caches.L2} L3 ${cpu.caches.L3}; load ${load0.toFixed(2)}\n`);
  const folders = await ensureFolders(dir, names);
  const rows = [];
  for (const name of names) {
    const spec = MODELS[name];
    const plan = [['load', 1]];
    for (const th of threads) plan.push(['full', th], ['torch-full', th], ['lora', th], ['torch-lora', th]);
    plan.push(['lora-ckpt', threads[0]], ['norms', threads[0]], ['zo', threads[0]]);
    const only = env.SCENARIOS ? new Set(env.SCENARIOS.split(',')) : null;
    for (const [scenario, th] of plan.filter(([sc]) => !only || only.has(sc))) {
      const need = estimate(spec.config, scenario);
      const avail = memAvailable();
      if (need > avail * 0.9) {
        rows.push({ model: name, scenario, threads: th, skipped: `needs ~${(need / GiB).toFixed(1)} GiB, ${(avail / GiB).toFixed(1)} GiB available` });
        process.stderr.write(`${name} ${scenario} ×${th}: skipped (${rows.at(-1).skipped})\n`);
        continue;
      }
      const t0 = performance.now();
      const childEnv = { ...env, UNLEARN_NATIVE_THREADS: String(th), OMP_NUM_THREADS: String(th), OPENBLAS_NUM_THREADS: String(th), OMP_WAIT_POLICY: 'PASSIVE' };
      const r = scenario.startsWith('torch-')
        ? await run('/usr/bin/python3', [path.join(here, 'torch_scale.py'), JSON.stringify({ cmd: scenario.slice(6), config: spec.config, threads: th, batch: spec.batch, seq: spec.seq, steps, lora: LORA })], childEnv)
        : await run(process.execPath, ['--max-old-space-size=8192', fileURLToPath(import.meta.url), '--child', JSON.stringify({ scenario, model: name, threads: th, dir: folders[name], steps, profile: env.PROFILE !== '0' && (scenario === 'full' || scenario === 'lora' || scenario === 'norms') && th === threads[0] })], childEnv);
      rows.push({ model: name, scenario, threads: th, ...r, wallSeconds: (performance.now() - t0) / 1000 });
      process.stderr.write(`${name} ${scenario} ×${th}: ${r.error ?? `step ${r.stepSeconds?.toFixed(2) ?? '-'} s, fwd ${r.forwardSeconds?.toFixed(2) ?? '-'} s, fwd+bwd ${r.fwdbwdSeconds?.toFixed(2) ?? '-'} s, peak RSS ${(r.peakRss / GiB).toFixed(2)} GiB`}\n`);
    }
  }
  const meta = { started, finished: new Date().toISOString(), cpu, node: process.version, loadAverage1m: { before: +load0.toFixed(2), after: +os.loadavg()[0].toFixed(2) }, steps, lora: LORA, models: Object.fromEntries(names.map((n) => [n, { ...MODELS[n], params: paramCount(MODELS[n].config) }])) };
  const results = { meta, rows };
  const { writeFileAtomic } = await import(pathToFileURL(path.join(repo, 'packages/tensors/dist/index.js')).href);
  const md = markdown(results);
  const suffix = env.LABEL ? `-${env.LABEL}` : '';
  await writeFileAtomic(path.join(here, `results${suffix}.json`), `${JSON.stringify(results, null, 2)}\n`);
  await writeFileAtomic(path.join(here, `results${suffix}.md`), md);
  process.stdout.write(md);
}

function markdown({ meta, rows }) {
  const g = (x) => (Number.isFinite(x) ? `${(x / GiB).toFixed(2)}` : '–');
  const s = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '–');
  const M = (x) => (Number.isFinite(x) ? `${(x / 1e6).toFixed(x < 1e7 ? 2 : 1)}M` : '–');
  const lines = [
    '# bench/scale — 110M and 1B-class Llama: native backend vs PyTorch',
    '',
    `CPU: ${meta.cpu.model}, ${meta.cpu.cores} cores, ISA ${meta.cpu.isa.join(' ')}, L1d ${meta.cpu.caches.L1d}, L2 ${meta.cpu.caches.L2}, L3 ${meta.cpu.caches.L3}. Node ${meta.node}.`,
    `Run ${meta.started} – ${meta.finished}; 1-minute load average ${meta.loadAverage1m.before} before, ${meta.loadAverage1m.after} after: **the machine was shared with other sessions**, so absolute times are noisy; native and PyTorch ran back to back in the same run.`,
    `Random-init models from HF folders: ${Object.entries(meta.models).map(([n, m]) => `${n} (${M(m.params)} params, ${m.dtype} safetensors, batch ${m.batch}×${m.seq})`).join('; ')}.`,
    `LoRA: r=${meta.lora.r}, α=${meta.lora.alpha} on ${meta.lora.targets.join(', ')}; AdamW on the adapters. Times: median of ${meta.steps} steps after one warm-up; each row is its own process (peak RSS = its VmHWM, PyTorch: ru_maxrss).`,
    '',
    '| model | scenario | threads | trainable | load s | step s | tokens/s | fwd s | fwd+bwd s | bwd/fwd | peak RSS GiB | note |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const pool = Number.isFinite(r.nativePoolBytes) && r.nativePoolBytes > 0 ? `native buffer pool ${g(r.nativePoolBytes)} GiB at the end` : '';
    const note = r.skipped ? `skipped: ${r.skipped}` : r.error ? `error: ${r.error}` : pool;
    lines.push(`| ${r.model} | ${r.scenario} | ${r.threads} | ${M(r.trainableParams)} | ${s(r.loadSeconds)} | ${s(r.stepSeconds)} | ${s(r.tokensPerSecond, 1)} | ${s(r.forwardSeconds)} | ${s(r.fwdbwdSeconds)} | ${s(r.backwardOverForward)} | ${g(r.peakRss)} | ${note} |`);
  }
  const profiled = rows.filter((r) => r.profile);
  if (profiled.length) {
    lines.push('', '## Where forward+backward goes (tf.profile kernel ms, one step, first thread count)', '');
    for (const r of profiled) {
      const dw = r.frozenWeightShapedMatmuls === undefined ? '' : ` — matmuls with a frozen weight's output shape (dW of a frozen weight): ${r.frozenWeightShapedMatmuls} of ${r.matmulKernels}`;
      lines.push(`- ${r.model} ${r.scenario}: ${r.profile.map((k) => `${k.name} ${k.ms} ms ×${k.n}`).join(', ')}${dw}`);
    }
  }
  lines.push('', 'Scenarios: `load` = loadModel only; `full` = all weights trained (AdamW); `lora` = adapters only; `lora-ckpt` = LoRA with per-layer gradient checkpointing; `norms` = only the RMSNorm gains trainable (backward/forward ratio only); `zo` = zo-sgd (MeZO, in place; no backward); `torch-*` = PyTorch on the same shapes (random init, no folder).', '');
  return `${lines.join('\n')}\n`;
}

if (process.argv[2] === '--render') {
  // re-render results.md from a results JSON (e.g. after changing the table): node run.mjs --render results.json
  const file = path.resolve(process.argv[3] ?? path.join(here, 'results.json'));
  const md = markdown(JSON.parse(readFileSync(file, 'utf8')));
  (await import('node:fs')).writeFileSync(file.replace(/\.json$/, '.md'), md);
  process.stdout.write(md);
} else if (process.argv[2] === '--child') {
  child(JSON.parse(process.argv[3])).then((r) => {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    process.exit(0);
  }, (e) => {
    process.stdout.write(`${JSON.stringify({ error: String(e?.message ?? e).split('\n')[0] })}\n`);
    process.exit(1);
  });
} else {
  main().catch((e) => {
    process.stderr.write(`${e?.stack ?? e}\n`);
    process.exit(1);
  });
}

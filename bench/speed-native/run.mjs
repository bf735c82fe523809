// The native backend against PyTorch (Debian python3-torch, /usr/bin/python3) on three models, at the SAME thread
// count on both sides, steps interleaved: stories260K's architecture (Llama, 260K params, batch 8×128), the reference
// GPT (../shared/reference: V 4096, d 256, 4 layers, batch 8×128, 27.4 GFLOP/train step) and a 110M Llama
// (12 layers × 768, vocab 32000, FF 2048, tied head, batch 4×128), all random init.
// Usage (after `pnpm build`):  node bench/speed-native/run.mjs      (or `pnpm bench:native`)
// Env: MODELS (comma list of stories260K, gpt, llama110M; default all), THREADS (default "1,2"), STEPS (timed steps,
//      default 5), WARMUP (default 2; llama110M 1), PROFILE=0 skips the per-kernel profile, LABEL=x writes
//      results-x.json/.md instead of results.json/.md. UNLEARN_NATIVE_ISA / _L1 / _L2 / _L3 / _BLAS pass through.
// How: for each model and thread count one Node worker (this file, --worker: native backend) and one PyTorch worker
// (torch_worker.py) stay alive; the parent asks each for one step in turn (native forward, torch forward, native
// fwd+bwd, torch fwd+bwd, …), so both see the same machine load — the ratio is fair on a shared machine even when the
// absolute times are not. Median with min/max of STEPS timed steps after WARMUP. Writes results.json and results.md.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const env = process.env;
const STORIES260K = {
  model_type: 'llama', vocab_size: 512, hidden_size: 64, intermediate_size: 172, num_hidden_layers: 5,
  num_attention_heads: 8, num_key_value_heads: 4, head_dim: 8, max_position_embeddings: 512, rms_norm_eps: 1e-5,
  rope_theta: 10000, tie_word_embeddings: true,
};
const LLAMA110M = {
  model_type: 'llama', vocab_size: 32000, hidden_size: 768, intermediate_size: 2048, num_hidden_layers: 12,
  num_attention_heads: 12, num_key_value_heads: 12, head_dim: 64, max_position_embeddings: 512, rms_norm_eps: 1e-5,
  rope_theta: 10000, tie_word_embeddings: true,
};
const GPT = { V: 4096, D: 256, L: 4, H: 4, T: 128, B: 8 };
export const MODELS = {
  stories260K: { kind: 'llama', config: STORIES260K, batch: 8, seq: 128, warmup: 2, label: 'stories260K arch (Llama 5×64, vocab 512), batch 8×128' },
  gpt: { kind: 'gpt', config: GPT, batch: 8, seq: 128, warmup: 2, label: 'reference GPT (4×256, vocab 4096), batch 8×128' },
  // seconds per step: the tf-op AdamW mode is left out (trainFused is the AdamW step; `train` differs by ~12 tf ops
  // per parameter) to keep the run within the time a shared machine allows
  llama110M: { kind: 'llama', config: LLAMA110M, batch: 4, seq: 128, warmup: 1, modes: ['forward', 'fwdbwd', 'trainFused'], label: 'Llama 12×768, FF 2048, vocab 32000, batch 4×128' },
};
// native mode -> the PyTorch mode it is compared with
const PAIRS = { forward: 'forward', fwdbwd: 'fwdbwd', train: 'adamw', trainFused: 'adamw' };

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return { median: s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2, min: s[0], max: s[s.length - 1], n: s.length, all: xs };
};

async function loadLibs() {
  const dist = (p) => path.join(repo, 'packages', p, 'dist/index.js');
  for (const p of ['tensors', 'backend-native', 'models', 'objectives']) {
    if (!existsSync(dist(p))) throw new Error(`${dist(p)} is missing: run \`pnpm build\` first`);
  }
  const [tensors, native, models, objectives] = await Promise.all(['tensors', 'backend-native', 'models', 'objectives']
    .map((p) => import(pathToFileURL(dist(p)).href)));
  const tf = createRequire(path.join(repo, 'packages/tensors/package.json'))('@tensorflow/tfjs-core');
  return { tf, tensors, native, models, objectives };
}

// ---------------- worker: the native side, one model ----------------
async function worker() {
  const libs = await loadLibs();
  const { tf, tensors, native } = libs;
  let model;
  const fused = (p, g, m, v, step, wd, lr = 1e-3) => native.fusedAdamW(p, g, m, v, { lr, weightDecay: wd, step });
  const steps = {
    forward: () => model.forward(), fwdbwd: () => model.fwdbwd(), train: () => model.train(), trainFused: () => model.train(fused),
  };
  const handle = async (req) => {
    if (req.cmd === 'setup') {
      native.registerNativeBackend({ threads: req.threads });
      const report = await tensors.initBackend('native');
      if (req.kind === 'gpt') {
        const { buildGpt } = await import('./gpt.mjs');
        model = buildGpt(tf, tensors, req.config);
      } else {
        const { buildLlama } = await import('./llama.mjs');
        model = buildLlama(tf, libs, req.config, req);
      }
      return { params: model.nParams, details: report.details, info: native.loadAddon().info() };
    }
    if (req.cmd === 'step') {
      const t0 = performance.now();
      const loss = await steps[req.mode]();
      return { seconds: (performance.now() - t0) / 1000, loss };
    }
    if (req.cmd === 'profile') return kernelProfile(tf, steps[req.mode]);
    if (req.cmd === 'info') return { info: native.loadAddon().info(), numTensors: tf.memory().numTensors };
    throw new Error(`unknown command ${req.cmd}`);
  };
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const req = JSON.parse(line);
    if (req.cmd === 'exit') break;
    let out;
    try {
      out = await handle(req);
    } catch (e) {
      out = { error: String(e?.message ?? e).split('\n')[0] };
    }
    process.stdout.write(`${JSON.stringify(out)}\n`);
  }
  model?.dispose();
  process.exit(0);
}

// tf.profile of one step: kernel count, kernel time, the rest (engine: tape, dispatch, JS between kernels) and the
// heaviest kernels by name (customGrad / op wrappers skipped: they double count).
async function kernelProfile(tf, step) {
  const t0 = performance.now();
  const prof = await tf.profile(async () => { await step(); });
  const wallMs = performance.now() - t0;
  const agg = {};
  let count = 0;
  for (const k of prof.kernels) {
    if (k.name === 'forward' || k.name.endsWith('__op')) continue;
    count++;
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const a = (agg[k.name] ??= { ms: 0, n: 0, shapes: {} });
    a.ms += ms;
    a.n++;
    const key = JSON.stringify(k.inputShapes);
    a.shapes[key] = (a.shapes[key] ?? 0) + ms;
  }
  const kernels = Object.entries(agg).sort((x, y) => y[1].ms - x[1].ms).map(([name, a]) => ({
    name, ms: +a.ms.toFixed(2), n: a.n,
    topShapes: Object.entries(a.shapes).sort((x, y) => y[1] - x[1]).slice(0, 3).map(([s, ms]) => `${s}: ${ms.toFixed(1)} ms`),
  }));
  const kernelMs = kernels.reduce((s, k) => s + k.ms, 0);
  return { wallMs: +wallMs.toFixed(1), kernelMs: +kernelMs.toFixed(1), kernelCount: count, overheadMs: +(wallMs - kernelMs).toFixed(1), kernels };
}

// ---------------- parent ----------------
function startWorker(cmd, args, workerEnv, name) {
  const child = spawn(cmd, args, { env: workerEnv, stdio: ['pipe', 'pipe', 'inherit'] });
  const rl = readline.createInterface({ input: child.stdout });
  const waiting = [];
  rl.on('line', (line) => waiting.shift()?.resolve(JSON.parse(line)));
  child.on('exit', (code) => { for (const w of waiting.splice(0)) w.reject(new Error(`${name} worker exited with ${code}`)); });
  return {
    ask(req) {
      return new Promise((resolve, reject) => {
        waiting.push({ resolve: (r) => (r.error ? reject(new Error(`${name}: ${r.error}`)) : resolve(r)), reject });
        child.stdin.write(`${JSON.stringify(req)}\n`);
      });
    },
    close() { child.stdin.write('{"cmd":"exit"}\n'); child.stdin.end(); },
  };
}

async function benchOne(name, spec, threads, steps, profile) {
  // the BLAS tuned per shape (opt-in since it makes runs not bit-reproducible; a speed table wants the faster gemm)
  const nodeEnv = { UNLEARN_NATIVE_BLAS: 'auto', ...env, UNLEARN_NATIVE_THREADS: String(threads) };
  const torchEnv = { ...env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), OMP_WAIT_POLICY: 'PASSIVE' };
  const nat = startWorker(process.execPath, [fileURLToPath(import.meta.url), '--worker'], nodeEnv, 'native');
  const pt = startWorker('/usr/bin/python3', [path.join(here, 'torch_worker.py')], torchEnv, 'torch');
  try {
    const setup = { kind: spec.kind, model: spec.kind, config: spec.config, threads, batch: spec.batch, seq: spec.seq };
    const natInfo = await nat.ask({ cmd: 'setup', ...setup });
    const ptInfo = await pt.ask({ cmd: 'setup', ...setup });
    const times = { native: {}, torch: {} };
    const losses = { native: {}, torch: {} };
    const warmup = Number(env.WARMUP ?? spec.warmup);
    for (let i = 0; i < warmup + steps; i++) {
      const modes = spec.modes ?? Object.keys(PAIRS);
      for (const mode of modes) {
        const tm = PAIRS[mode];
        const r = await nat.ask({ cmd: 'step', mode });
        // torch's AdamW step is timed once per round (paired with train and trainFused)
        const once = mode !== 'trainFused' || !modes.includes('train');
        const t = once ? await pt.ask({ cmd: 'step', mode: tm }) : undefined;
        process.stderr.write(`  ${name} ×${threads} ${i < warmup ? 'warmup' : `step ${i - warmup + 1}/${steps}`} ${mode}: native ${r.seconds.toFixed(3)} s${t ? `, torch ${t.seconds.toFixed(3)} s` : ''}\n`);
        if (i < warmup) continue;
        (times.native[mode] ??= []).push(r.seconds);
        losses.native[mode] = r.loss;
        if (t) {
          (times.torch[tm] ??= []).push(t.seconds);
          losses.torch[tm] = t.loss;
        }
      }
    }
    const prof = profile ? await nat.ask({ cmd: 'profile', mode: 'trainFused' }) : undefined;
    const after = await nat.ask({ cmd: 'info' });
    return {
      model: name, threads, params: natInfo.params, torchParams: ptInfo.params, torch: ptInfo.torch, torchThreads: ptInfo.threads,
      details: natInfo.details, blasAfter: after.info.blas, numTensorsAfter: after.numTensors,
      native: Object.fromEntries(Object.entries(times.native).map(([m, xs]) => [m, stats(xs)])),
      pytorch: Object.fromEntries(Object.entries(times.torch).map(([m, xs]) => [m, stats(xs)])),
      losses, profile: prof,
    };
  } finally {
    nat.close();
    pt.close();
  }
}

async function parent() {
  const names = (env.MODELS || Object.keys(MODELS).join(',')).split(',');
  for (const n of names) if (!MODELS[n]) throw new Error(`MODELS: "${n}" is not one of ${Object.keys(MODELS).join(', ')}`);
  const threadList = (env.THREADS || '1,2').split(',').map(Number);
  const steps = Number(env.STEPS || 5);
  if (!(steps >= 5)) process.stderr.write(`note: STEPS=${steps} is below the 5 timed steps the project's benchmarks use\n`);
  const { native } = await loadLibs();
  const info = native.loadAddon().info();
  const cpu = await cpuName();
  const load = [os.loadavg()[0]];
  const started = new Date().toISOString();
  const runs = [];
  for (const n of names) {
    for (const th of threadList) runs.push(await benchOne(n, MODELS[n], th, steps, env.PROFILE !== '0' && th === threadList[0]));
  }
  load.push(os.loadavg()[0]);
  const rows = [];
  for (const r of runs) {
    for (const [mode, tm] of Object.entries(PAIRS)) {
      const a = r.native[mode], b = r.pytorch[tm];
      if (a && b) rows.push({ model: r.model, threads: r.threads, mode, torchMode: tm, native: a, pytorch: b, speedup: b.median / a.median });
    }
    const bf = (s) => (s.fwdbwd.median - s.forward.median) / s.forward.median;
    r.backwardOverForward = { native: bf(r.native), pytorch: bf(r.pytorch) };
  }
  const meta = {
    started, finished: new Date().toISOString(), cpu, cores: os.cpus().length, node: process.version, torch: runs[0]?.torch,
    isa: info.isa, bestIsa: info.bestIsa, caches: info.caches, blocking: info.blocking, blas: info.blas,
    workerBlas: runs[0]?.blasAfter,
    forced: Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('UNLEARN_NATIVE_') && k !== 'UNLEARN_NATIVE_THREADS')),
    loadAverage1m: { before: +load[0].toFixed(2), after: +load[1].toFixed(2) }, steps,
  };
  const results = { meta, rows, runs };
  const md = markdown(results, names);
  const { writeFileAtomic } = await import(pathToFileURL(path.join(repo, 'packages/tensors/dist/index.js')).href);
  const suffix = env.LABEL ? `-${env.LABEL}` : '';
  await writeFileAtomic(path.join(here, `results${suffix}.json`), `${JSON.stringify(results, null, 2)}\n`);
  await writeFileAtomic(path.join(here, `results${suffix}.md`), md);
  process.stdout.write(md);
}

async function cpuName() {
  const txt = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const f = (k) => new RegExp(`^${k}\\s*:\\s*(.*)$`, 'm').exec(txt)?.[1];
  return `${os.cpus()[0]?.model ?? 'unknown'}${f('cpu family') ? ` (family ${f('cpu family')} model ${f('model')})` : ''}`;
}

/** The workers' BLAS policy (the parent process runs at the addon's default, the workers at the bench's setting). */
function blasText(meta) {
  const b = meta.workerBlas ?? meta.blas;
  if (!b?.library) return 'none';
  return b.policy === 'auto' ? `${b.library} (auto: each 2-D gemm shape timed on both, the faster kept)` : `${b.library} (${b.policy}: ${b.policy === 'off' ? "the addon's own gemm for every shape" : 'every gemm'})`;
}

function markdown({ meta, rows, runs }, names) {
  const KiB = (x) => (x >= 1 << 20 ? `${+(x / (1 << 20)).toFixed(1)} MiB` : `${Math.round(x / 1024)} KiB`);
  const s = (x) => `${x.median.toFixed(3)} (${x.min.toFixed(3)}–${x.max.toFixed(3)})`;
  const forced = Object.entries(meta.forced).map(([k, v]) => `${k}=${v}`).join(' ');
  const lines = [
    `# Native backend vs PyTorch${forced ? ` (forced: ${forced})` : ''}`,
    '',
    `${meta.cpu}, ${meta.cores} cores; caches L1d ${KiB(meta.caches.l1)}, L2 ${KiB(meta.caches.l2)}, L3 ${KiB(meta.caches.l3)} shared by ${meta.caches.l3Sharing} (${meta.caches.source}).`,
    `Native: ISA ${meta.isa} (best on this CPU: ${meta.bestIsa}), gemm tile ${meta.blocking.mr}×${meta.blocking.nr}, KC ${meta.blocking.kc} MC ${meta.blocking.mc} NC ${meta.blocking.nc}; system BLAS: ${blasText(meta)}. Node ${meta.node}, PyTorch ${meta.torch}.`,
    `Both sides at the same thread count; steps interleaved (native, PyTorch, native, …) in one run; seconds per step, median (min–max) of ${meta.steps} timed steps after warm-up.`,
    `Load average (1 min) before/after: ${meta.loadAverage1m.before} / ${meta.loadAverage1m.after} — the machine is shared with other jobs. Written by \`node bench/speed-native/run.mjs\` on ${meta.finished}.`,
    '`speedup` = PyTorch median ÷ native median for the paired mode (> 1: native faster; within ±5%: on par).',
    '',
    '| model | threads | native mode | native s/step | PyTorch mode | PyTorch s/step | speedup |',
    '|---|---:|---|---|---|---|---:|',
    ...rows.map((r) => `| ${r.model} | ${r.threads} | ${r.mode} | ${s(r.native)} | ${r.torchMode} | ${s(r.pytorch)} | ${r.speedup.toFixed(2)}× |`),
    '',
    'Modes: forward = loss only; fwdbwd = loss + all gradients; train = fwdbwd + AdamW from tf ops; trainFused = fwdbwd +',
    'the addon\'s one-pass `fusedAdamW`; PyTorch adamw = fwdbwd + `torch.optim.AdamW.step()` (timed once per round, paired with both).',
    '',
    '## Backward ÷ forward ((fwdbwd − forward) ÷ forward, medians)',
    '',
    '| model | threads | native | PyTorch |',
    '|---|---:|---:|---:|',
    ...runs.map((r) => `| ${r.model} | ${r.threads} | ${r.backwardOverForward.native.toFixed(2)} | ${r.backwardOverForward.pytorch.toFixed(2)} |`),
    '',
    'Models: ' + names.map((n) => `${n} = ${MODELS[n].label} (${runs.find((r) => r.model === n)?.params.toLocaleString('en')} params)`).join('; ') + '.',
  ];
  const blasRuns = runs.filter((r) => r.blasAfter?.library);
  if (blasRuns.length) {
    lines.push('', `System BLAS use (per run, after it): ${blasRuns.map((r) => `${r.model}×${r.threads}: ${r.blasAfter.shapesToBlas}/${r.blasAfter.shapesMeasured} shapes to ${r.blasAfter.library}`).join('; ')}.`);
  }
  for (const r of runs.filter((x) => x.profile)) {
    const p = r.profile;
    lines.push('', `## Where a native trainFused step goes: ${r.model}, ${r.threads} thread(s) (tf.profile: wall ${p.wallMs} ms, ${p.kernelCount} kernels, ${p.kernelMs} ms in kernels, ${p.overheadMs} ms engine/JS outside them)`, '',
      '| kernel | ms | calls | heaviest shapes |', '|---|---:|---:|---|',
      ...p.kernels.slice(0, 12).map((k) => `| ${k.name} | ${k.ms} | ${k.n} | ${k.topShapes.join('; ')} |`));
  }
  return `${lines.join('\n')}\n`;
}

if (process.argv.includes('--worker')) await worker();
else if (process.argv.includes('--render')) {
  // re-render a committed results*.json as its .md (after a change to the table's text only)
  const file = process.argv[process.argv.indexOf('--render') + 1];
  const results = JSON.parse(readFileSync(file, 'utf8'));
  results.meta.workerBlas ??= results.runs[0]?.blasAfter;
  writeFileSync(file.replace(/\.json$/, '.md'), markdown(results, [...new Set(results.runs.map((r) => r.model))]));
} else {
  await parent();
  process.exit(0);
}

// Speed of the `native` backend against wasm, cpu and PyTorch on the reference GPT train step
// (../shared/reference: vocab 4096, d 256, 4 layers, seq 128, batch 8 = 1,024 tokens, 27.4 GFLOP per train step).
// Usage (after `pnpm build`):  node bench/speed-native/run.mjs
// Env: STEPS (timed steps, default 5), WARMUP (default 2), ONLY (comma list of: native, wasm, cpu, torch),
//      THREADS (native/torch thread counts, default "1,2"), PROFILE=0 to skip the per-kernel profile.
// Each tfjs backend runs in its own child process (clean heap); PyTorch runs ../shared/reference/gpt_torch.py.
// Writes bench/speed-native/results.json and results.md. Speed is measured here, never asserted in tests.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const env = process.env;
const STEPS = Number(env.STEPS || 5), WARMUP = Number(env.WARMUP || 2);
const median = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

async function loadLibs() {
  const tensorsDist = path.join(repo, 'packages/tensors/dist/index.js');
  const nativeDist = path.join(repo, 'packages/backend-native/dist/index.js');
  for (const f of [tensorsDist, nativeDist]) if (!existsSync(f)) throw new Error(`${f} is missing: run \`pnpm build\` first`);
  const tensors = await import(pathToFileURL(tensorsDist).href);
  const native = await import(pathToFileURL(nativeDist).href);
  const tf = createRequire(path.join(repo, 'packages/tensors/package.json'))('@tensorflow/tfjs-core');
  return { tf, tensors, native };
}

// ---------------- child: one tfjs backend ----------------
async function child(backend, threads) {
  const { tf, tensors, native } = await loadLibs();
  const { buildGpt } = await import('./gpt.mjs');
  if (backend === 'native') native.registerNativeBackend({ threads });
  const report = await tensors.initBackend(backend);
  const model = buildGpt(tf, tensors);
  const time = async (fn, steps = STEPS, warmup = WARMUP) => {
    const times = [];
    let loss;
    for (let i = 0; i < warmup + steps; i++) {
      const t0 = performance.now();
      loss = await fn();
      const dt = (performance.now() - t0) / 1000;
      if (i >= warmup) times.push(dt);
      process.stderr.write(`  [${backend}${threads ? `×${threads}` : ''}] ${fn.label ?? ''} ${i < warmup ? 'warmup' : 'step'} ${dt.toFixed(3)} s loss=${loss?.toFixed?.(4)}\n`);
    }
    return { median: median(times), min: Math.min(...times), n: times.length, loss };
  };
  const label = (name, fn) => Object.assign(fn, { label: name });
  const modes = {};
  if (backend === 'cpu') { // pure JS: ~50 s per train step, one step only
    modes.train = await time(label('train', () => model.train()), 1, 0);
  } else {
    modes.forward = await time(label('forward', () => model.forward()));
    modes.train = await time(label('train', () => model.train()));
    if (backend === 'native') {
      const fused = (p, g, m, v, step, wd) => native.fusedAdamW(p, g, m, v, { lr: 1e-3, weightDecay: wd, step });
      modes.trainFusedAdamW = await time(label('train+fusedAdamW', () => model.train(fused)));
    }
    modes.sophiaGnb = await time(label('sophiaGnb', () => model.sophiaGnb()));
  }
  let profile;
  if (backend === 'native' && env.PROFILE !== '0') profile = await kernelProfile(tf, () => model.train());
  const result = { backend, threads: threads ?? report.details.threads ?? 1, details: report.details, modes, profile,
    tokensPerStep: model.BT, flopsPerStep: model.flopsPerToken * model.BT, numTensors: tf.memory().numTensors };
  model.dispose();
  if (backend === 'native') {
    // the same model on tf.matMul with transpose flags: the native gemm folds transposes into its packing, so
    // @unlearn/tensors' explicit-transpose matmul (needed on wasm) only costs here
    const raw = buildGpt(tf, { matmul: (a, b, ta = false, tb = false) => tf.matMul(a, b, ta, tb) });
    modes.trainTfMatMul = await time(label('train(tf.matMul)', () => raw.train()));
    raw.dispose();
  }
  process.stdout.write(`RESULT_JSON ${JSON.stringify(result)}\n`);
}

// tf.profile of one train step, kernels aggregated by name (customGrad/op wrappers skipped: they double count).
async function kernelProfile(tf, step) {
  await step();
  const t0 = performance.now();
  const prof = await tf.profile(async () => { await step(); });
  const wallMs = performance.now() - t0;
  const agg = {};
  for (const k of prof.kernels) {
    if (k.name === 'forward' || k.name.endsWith('__op')) continue;
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
  return { wallMs: +wallMs.toFixed(1), kernelMs: +kernels.reduce((s, k) => s + k.ms, 0).toFixed(1), kernels };
}

// ---------------- parent ----------------
function runChild(backend, threads) {
  const childEnv = { ...env };
  if (threads) childEnv.UNLEARN_NATIVE_THREADS = String(threads);
  const args = [fileURLToPath(import.meta.url), '--child', backend, ...(threads ? [String(threads)] : [])];
  const r = spawnSync(process.execPath, args, { env: childEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT_JSON '));
  if (!line) return { backend, threads, error: `child exited with ${r.status}: ${r.stdout.trim().split('\n').pop() ?? ''}` };
  return JSON.parse(line.slice('RESULT_JSON '.length));
}

function runTorch(mode, threads) {
  const script = path.resolve(repo, '../shared/reference/gpt_torch.py');
  const tEnv = { ...env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), OMP_WAIT_POLICY: 'PASSIVE' };
  const r = spawnSync('/usr/bin/python3', [script, '--threads', String(threads), '--mode', mode, '--steps', String(STEPS + 5), '--warmup', String(WARMUP + 1)],
    { env: tEnv, encoding: 'utf8' });
  const m = /median ([\d.]+) s \(min ([\d.]+)/.exec(r.stdout ?? '');
  if (!m) return { error: `gpt_torch.py ${mode} failed: ${(r.stderr || r.stdout || '').trim().split('\n').pop()}` };
  process.stderr.write(`  [torch×${threads}] ${r.stdout.trim().split('\n').pop()}\n`);
  return { median: Number(m[1]), min: Number(m[2]), n: STEPS + 5 };
}

async function parent() {
  const only = new Set((env.ONLY || 'native,wasm,cpu,torch').split(','));
  const threadList = (env.THREADS || '1,2').split(',').map(Number);
  const load = [os.loadavg()];
  const started = new Date().toISOString();
  const runs = [];
  if (only.has('native')) for (const th of threadList) runs.push(runChild('native', th));
  if (only.has('wasm')) runs.push(runChild('wasm'));
  if (only.has('cpu')) runs.push(runChild('cpu'));
  const torch = {};
  if (only.has('torch')) {
    for (const th of threadList) {
      torch[th] = { forward: runTorch('fwd', th), train: runTorch('train', th), sophiaGnb: runTorch('gnb', th) };
    }
  }
  load.push(os.loadavg());
  const tokens = 1024;
  const rows = [];
  const torchRef = (th, mode) => torch[th]?.[mode.startsWith('train') ? 'train' : mode]?.median;
  for (const r of runs) {
    if (r.error) { rows.push({ engine: r.backend, threads: r.threads, mode: '-', error: r.error }); continue; }
    for (const [mode, t] of Object.entries(r.modes)) {
      const ref = torchRef(r.threads, mode);
      rows.push({ engine: `tfjs ${r.backend}`, threads: r.threads, mode, seconds: t.median, tokensPerSecond: tokens / t.median,
        vsTorch: ref ? ref / t.median : undefined, isa: r.details?.isa });
    }
  }
  for (const [th, modes] of Object.entries(torch)) {
    for (const [mode, t] of Object.entries(modes)) {
      if (t.error) rows.push({ engine: 'pytorch', threads: Number(th), mode, error: t.error });
      else rows.push({ engine: 'pytorch', threads: Number(th), mode, seconds: t.median, tokensPerSecond: tokens / t.median, vsTorch: 1 });
    }
  }
  const cpuModel = os.cpus()[0]?.model ?? 'unknown';
  const meta = { started, finished: new Date().toISOString(), cpu: cpuModel, cores: os.cpus().length, node: process.version,
    loadAverage1m: { before: +load[0][0].toFixed(2), after: +load[1][0].toFixed(2) }, steps: STEPS, warmup: WARMUP,
    model: 'GPT V=4096 D=256 L=4 H=4 T=128 B=8 (1,024 tokens, 27.4 GFLOP/train step)' };
  const profile = runs.find((r) => r.profile)?.profile;
  const results = { meta, rows, runs, torch };

  const fmt = (x, d = 3) => (x === undefined ? '–' : x.toFixed(d));
  const md = [
    '# Native backend speed (reference GPT train step)',
    '',
    `${meta.model}. ${meta.cpu}, ${meta.cores} cores, Node ${meta.node}. Median of ${STEPS} steps after ${WARMUP} warm-up`,
    `(cpu: 1 step). Load average (1 min) before/after: ${meta.loadAverage1m.before} / ${meta.loadAverage1m.after} — the machine is shared.`,
    '`vs PyTorch` = PyTorch seconds / these seconds for the same mode and thread count (> 1 = faster than PyTorch).',
    '',
    '| engine | threads | mode | s/step | tokens/s | vs PyTorch |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => r.error ? `| ${r.engine} | ${r.threads ?? ''} | ${r.mode} | error: ${r.error} | | |`
      : `| ${r.engine}${r.isa ? ` (${r.isa})` : ''} | ${r.threads} | ${r.mode} | ${fmt(r.seconds)} | ${fmt(r.tokensPerSecond, 0)} | ${r.vsTorch ? fmt(r.vsTorch, 2) + '×' : '–'} |`),
    '',
    'Modes: forward = loss only; train = fwd + CE + bwd + AdamW (tf ops); trainFusedAdamW = the same with the addon\'s',
    'one-pass AdamW; trainTfMatMul = train with tf.matMul(a, b, transposeA, transposeB) instead of @unlearn/tensors\' explicit',
    'transposes; sophiaGnb = Sophia-G Hessian estimate (fwd + sampled labels + bwd + EMA), as gpt_torch.py `gnb`.',
  ];
  if (profile) {
    md.push('', `## Where a native train step goes (tf.profile, first thread count; wall ${profile.wallMs} ms, kernels ${profile.kernelMs} ms)`, '',
      '| kernel | ms | calls | heaviest shapes |', '|---|---|---|---|',
      ...profile.kernels.slice(0, 20).map((k) => `| ${k.name} | ${k.ms} | ${k.n} | ${k.topShapes.join('; ')} |`));
  }
  const { writeFileAtomic } = await import(pathToFileURL(path.join(repo, 'packages/tensors/dist/index.js')).href);
  await writeFileAtomic(path.join(here, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  await writeFileAtomic(path.join(here, 'results.md'), md.join('\n') + '\n');
  console.log(md.join('\n'));
}

const i = process.argv.indexOf('--child');
if (i > 0) await child(process.argv[i + 1], process.argv[i + 2] ? Number(process.argv[i + 2]) : undefined);
else await parent();
process.exit(0);

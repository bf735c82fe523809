#!/usr/bin/env node
// Speed benchmark: step time and tokens/s of forward-only, AdamW, each Sophia estimator (gnb, fisher, hutchinson) and zo-sgd
// on every tfjs backend (cpu, wasm, webgpu, native when built), each in its own process (peak RSS per backend), and
// the same Llama in PyTorch (/usr/bin/python3, bench/speed/llama_torch.py) timed in the same run.
// Writes bench/speed/results.json and bench/speed/results.md. Needs `pnpm build` first (runs the built CLI).
// Usage: node bench/speed/run.mjs [--backends cpu,wasm,webgpu,native] [--steps 5] [--batch 8] [--seq 128] [--threads 1]
// Every engine runs at --threads (native: UNLEARN_NATIVE_THREADS; PyTorch: torch.set_num_threads; wasm and cpu are
// single-threaded in Node). The native-vs-PyTorch comparison at 1 and 2 threads, interleaved step by step, on this
// model, the reference GPT and a 110M Llama is bench/speed-native (`pnpm bench:native`).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, rename } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const bin = path.join(root, 'packages/cli/dist/bin.js');
// PyTorch twin modes; the tfjs side also runs zo-sgd (MeZO, forward passes only) for its memory vs AdamW
const MODES = ['forward', 'adamw', 'sophia-gnb', 'sophia-fisher', 'sophia-hutchinson'];

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const backends = (args.backends ?? 'cpu,wasm,webgpu,native').split(',');
const steps = Number(args.steps ?? 5);
const batch = Number(args.batch ?? 8);
const seq = Number(args.seq ?? 128);
const torchThreads = Number(args.threads ?? args['torch-threads'] ?? 1);
// cpu (pure JS) is ~100× slower than wasm: fewer steps there keep the run in minutes
const stepsFor = (backend) => (backend === 'cpu' ? 1 : steps);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const tmp = await mkdtemp(path.join(os.tmpdir(), 'unlearn-speed-'));
const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
const cpuField = (k) => new RegExp(`^${k}\\s*:\\s*(.*)$`, 'm').exec(cpuinfo)?.[1];
// ISA extensions that pick a kernel build, and the data-cache sizes per level (sysfs), printed with every result
const flags = new Set((cpuField('flags') ?? '').split(/\s+/));
const isaFlags = ['avx512f', 'avx512vl', 'avx2', 'fma', 'sse4_2'].filter((f) => flags.has(f));
const caches = await Promise.all([0, 1, 2, 3, 4].map(async (i) => {
  const dir = `/sys/devices/system/cpu/cpu0/cache/index${i}`;
  const [level, type, size] = await Promise.all(['level', 'type', 'size'].map((f) => readFile(`${dir}/${f}`, 'utf8').then((t) => t.trim()).catch(() => null)));
  return level && type !== 'Instruction' ? `L${level}${type === 'Data' ? 'd' : ''} ${size}` : null;
})).then((xs) => xs.filter(Boolean).join(', '));
const results = { createdAt: new Date().toISOString(), machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, family: cpuField('cpu family'), model: cpuField('model'), isaFlags, caches, loadBefore: os.loadavg()[0], node: process.version }, threads: torchThreads, batch, seq, tfjs: [], torch: [], skipped: [] };

for (const backend of backends) {
  const out = path.join(tmp, `${backend}.json`);
  process.stderr.write(`tfjs ${backend}… `);
  try {
    await run(process.execPath, [bin, 'bench', '--backend', backend, '--steps', String(stepsFor(backend)), '--warmup', '2', '--batch-size', String(batch), '--seq', String(seq), '--json', out],
      { timeout: 1_800_000, maxBuffer: 1 << 24, env: { ...process.env, UNLEARN_NATIVE_THREADS: String(torchThreads) } });
    const r = JSON.parse(await readFile(out, 'utf8'));
    results.tfjs.push(r);
    process.stderr.write(`${r.results.map((x) => `${x.mode} ${x.error ? 'failed' : `${x.meanSeconds.toFixed(3)}s`}`).join(', ')}\n`);
  } catch (e) {
    const why = (e.stderr || e.message || '').toString().trim().split('\n').filter(Boolean).pop();
    results.skipped.push({ backend, why });
    process.stderr.write(`skipped (${why})\n`);
  }
}

const config = path.join(tmp, 'config.json');
const { STORIES260K_CONFIG } = await import(path.join(root, 'packages/cli/dist/commands/bench.js'));
await writeFile(config, JSON.stringify(STORIES260K_CONFIG));
for (const mode of MODES) {
  process.stderr.write(`torch ${mode}… `);
  const env = { ...process.env, OMP_NUM_THREADS: String(torchThreads), OPENBLAS_NUM_THREADS: String(torchThreads) };
  const { stdout } = await run('/usr/bin/python3', [path.join(here, 'llama_torch.py'), '--config', config, '--mode', mode, '--threads', String(torchThreads), '--steps', String(steps), '--warmup', '2', '--batch', String(batch), '--seq', String(seq)], { env, timeout: 600_000 });
  const r = JSON.parse(stdout.trim().split('\n').pop());
  r.meanSeconds = median(r.stepSeconds);
  results.torch.push(r);
  process.stderr.write(`${r.meanSeconds.toFixed(3)}s\n`);
}
await rm(tmp, { recursive: true, force: true });
results.machine.loadAfter = os.loadavg()[0];

const nativeInfo = results.tfjs.find((r) => r.backend === 'native')?.details;
// Markdown: one row per (engine, mode); ratio = step time / PyTorch's step time for the same mode
const torchBy = Object.fromEntries(results.torch.map((r) => [r.mode, r]));
const lines = [
  '# Speed: stories260K-architecture Llama, one training step',
  '',
  `Batch ${batch} × ${seq} tokens; ${results.machine.cpus} × ${results.machine.cpu} (family ${results.machine.family} model ${results.machine.model}; ISA flags ${isaFlags.join(' ')}; caches ${caches}); Node ${results.machine.node}; PyTorch ${results.torch[0]?.torch}. ` +
    `Load average (1 min) before/after: ${results.machine.loadBefore.toFixed(2)} / ${results.machine.loadAfter.toFixed(2)} on ${results.machine.cpus} CPUs — the machine is shared with other jobs. ` +
    `**Every engine at ${torchThreads} thread(s)** (native via UNLEARN_NATIVE_THREADS, PyTorch via torch.set_num_threads; wasm and cpu are single-threaded). ` +
    `Median of ${steps} timed steps after 2 warm-up (cpu: 1 step); Sophia modes use k = 1 (a curvature estimate every step). "× torch" = step time ÷ PyTorch's for the same mode. ` +
    `Each engine runs in its own process one after the other, so on a shared machine the ratios carry its load swings; the interleaved native-vs-PyTorch comparison is bench/speed-native. Written by \`node bench/speed/run.mjs\` on ${results.createdAt}.`,
  ...(nativeInfo ? ['', `Native: ISA ${nativeInfo.isa}, caches ${nativeInfo.caches}, gemm ${nativeInfo.blocking}, system BLAS ${nativeInfo.blas}.`] : []),
  '',
  '"step peak (MB)" = tensor memory one step adds at its peak over the model and batch (tf.profile peakBytes, tfjs only): zo-sgd opens no gradient tape.',
  '',
  '| engine | mode | step (s) | tokens/s | × torch | × own AdamW | step peak (MB) | process peak RSS (MB) |',
  '|---|---|---:|---:|---:|---:|---:|---:|',
];
const engines = [
  ...results.tfjs.map((r) => ({ name: `tfjs ${r.backend}`, rows: r.results, rss: r.peakRssMB })),
  { name: `torch (${torchThreads} thr)`, rows: results.torch.map((r) => ({ ...r, tokensPerSecond: r.tokensPerStep / r.meanSeconds })), rss: Math.max(...results.torch.map((r) => r.peakRssMB)) },
];
for (const e of engines) {
  const adamw = e.rows.find((x) => x.mode === 'adamw')?.meanSeconds;
  for (const x of e.rows) {
    if (x.error) {
      lines.push(`| ${e.name} | ${x.mode} | failed: ${x.error} | | | | | ${Math.round(e.rss)} |`);
      continue;
    }
    const ratio = torchBy[x.mode] ? (x.meanSeconds / torchBy[x.mode].meanSeconds).toFixed(1) : '—';
    const own = adamw ? (x.meanSeconds / adamw).toFixed(2) : '—';
    const peak = x.stepPeakMB === undefined ? '—' : x.stepPeakMB.toFixed(1);
    lines.push(`| ${e.name} | ${x.mode} | ${x.meanSeconds.toFixed(3)} | ${Math.round(x.tokensPerSecond)} | ${ratio} | ${own} | ${peak} | ${Math.round(x.peakRssMB ?? e.rss)} |`);
  }
}
for (const s of results.skipped) lines.push('', `Skipped ${s.backend}: ${s.why}`);
const md = `${lines.join('\n')}\n`;
for (const [file, text] of [['results.json', `${JSON.stringify(results, null, 2)}\n`], ['results.md', md]]) {
  await writeFile(path.join(here, `${file}.tmp`), text);
  await rename(path.join(here, `${file}.tmp`), path.join(here, file));
}
process.stdout.write(md);

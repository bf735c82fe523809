#!/usr/bin/env node
// Cache misses of the native gemm's blocking, simulated by cachegrind: one single-threaded 1024³ sgemm (AVX2
// kernel: valgrind does not decode AVX-512) with the blocking the addon derives for
//   - "before": the fixed blocking this package used until issue 15 (KC 256, MC 126, NC 1024 for the 6×16 tile),
//   - "native": this machine's caches as sysfs/cpuid report them,
//   - "zen3":   the Zen 3 geometry forced (UNLEARN_NATIVE_L1=32K UNLEARN_NATIVE_L2=512K UNLEARN_NATIVE_L3=4M: 32 MiB
//               L3 shared by 8 cores = 4 MiB a core),
// each counted on two simulated hierarchies. Cachegrind simulates only I1, D1 and one last level (LL), so "LL" is
// set to the L2 of the CPU in question (the level the MC×KC block of A must live in) and everything beyond it —
// L3 and DRAM — counts as an LL miss:
//   - zen3 caches: --D1=32768,8,64 --LL=524288,8,64  (Zen 3: 32 KiB 8-way L1d, 512 KiB 8-way L2)
//   - zen4 caches: --D1=32768,8,64 --LL=1048576,8,64 (Zen 4: 32 KiB 8-way L1d, 1 MiB 8-way L2)
// The data-fill of the inputs is counted once per hierarchy (`gemm_driver 0`) and subtracted.
// Usage: node bench/cachegrind/run.mjs   (needs g++ and valgrind; ~10 min; writes results.json / results.md here)
//   SWEEP='{"name": {"UNLEARN_NATIVE_MC": "1020"}, …}' HIER=zen3 — other blockings instead (results-sweep.*).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const nativeDir = path.resolve(here, '../../packages/backend-native/native');
const tmp = await mkdtemp(path.join(os.tmpdir(), 'unlearn-cachegrind-'));
const driver = path.join(tmp, 'gemm_driver');
await run('g++', ['-O3', '-std=c++17', '-mavx2', '-mfma', '-fno-math-errno', '-fno-trapping-math', `-I${nativeDir}`,
  path.join(here, 'gemm_driver.cc'), path.join(nativeDir, 'kernels_avx2.cc'), '-o', driver]);

const hierarchies = {
  zen3: ['--D1=32768,8,64', '--LL=524288,8,64'],
  zen4: ['--D1=32768,8,64', '--LL=1048576,8,64'],
};
const blockings = process.env.SWEEP ? JSON.parse(process.env.SWEEP) : {
  before: { UNLEARN_NATIVE_KC: '256', UNLEARN_NATIVE_MC: '126', UNLEARN_NATIVE_NC: '1024' },
  native: {},
  zen3: { UNLEARN_NATIVE_L1: '32K', UNLEARN_NATIVE_L2: '512K', UNLEARN_NATIVE_L3: '4M' },
};
if (process.env.HIER) for (const h of Object.keys(hierarchies)) if (!process.env.HIER.split(',').includes(h)) delete hierarchies[h];
const outName = process.env.SWEEP ? 'results-sweep' : 'results';
const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('UNLEARN_NATIVE_')));

async function cachegrind(hier, envExtra, reps) {
  const out = path.join(tmp, `cg.${hier}.${reps}.${Object.values(envExtra).join('_') || 'native'}`);
  const { stdout } = await run('valgrind', ['--tool=cachegrind', '--cache-sim=yes', ...hierarchies[hier],
    `--cachegrind-out-file=${out}`, driver, String(reps)], { env: { ...clean, ...envExtra }, maxBuffer: 1 << 24 });
  const text = await readFile(out, 'utf8');
  const events = /^events: (.*)$/m.exec(text)[1].trim().split(/\s+/);
  const totals = /^summary: (.*)$/m.exec(text)[1].trim().split(/\s+/).map(Number);
  const ev = Object.fromEntries(events.map((e, i) => [e, totals[i]]));
  const desc = [...text.matchAll(/^desc: (.*)$/gm)].map((m) => m[1].replace(/\s+/g, ' '));
  return { ev, desc, driver: JSON.parse(stdout.trim().split('\n').pop()) };
}

// two valgrind processes at a time (the machine has 2 cores)
const jobs = [];
for (const hier of Object.keys(hierarchies)) {
  jobs.push({ hier, blocking: 'baseline', env: {}, reps: 0 });
  for (const [name, env] of Object.entries(blockings)) jobs.push({ hier, blocking: name, env, reps: 1 });
}
const done = [];
let next = 0;
await Promise.all([0, 1].map(async () => {
  while (next < jobs.length) {
    const j = jobs[next++];
    const t0 = Date.now();
    done.push({ ...j, ...(await cachegrind(j.hier, j.env, j.reps)) });
    process.stderr.write(`${j.hier} ${j.blocking}: ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  }
}));
await rm(tmp, { recursive: true, force: true });

const rows = [];
for (const hier of Object.keys(hierarchies)) {
  const base = done.find((d) => d.hier === hier && d.blocking === 'baseline').ev;
  for (const name of Object.keys(blockings)) {
    const d = done.find((x) => x.hier === hier && x.blocking === name);
    const sub = (k) => d.ev[k] - base[k];
    const refs = sub('Dr') + sub('Dw'), d1 = sub('D1mr') + sub('D1mw'), ll = sub('DLmr') + sub('DLmw');
    const { l1, l2, l3, l3Sharing, kc, mc, nc } = d.driver;
    rows.push({ simulated: hier, desc: d.desc, blocking: name, caches: { l1, l2, l3, l3Sharing }, kc, mc, nc,
      dataRefs: refs, d1Misses: d1, llMisses: ll, d1MissRate: d1 / refs, llMissRate: ll / refs, llLocalMissRate: ll / d1 });
  }
}
const pct = (x) => `${(100 * x).toFixed(3)}%`;
const KiB = (x) => (x >= 1 << 20 ? `${x / (1 << 20)} MiB` : `${x / 1024} KiB`);
const md = [
  '# Cachegrind: cache misses of one 1024³ sgemm by blocking',
  '',
  `Written by \`node bench/cachegrind/run.mjs\` on ${new Date().toISOString()} (${os.cpus()[0]?.model}, valgrind cachegrind).`,
  'Single thread, the AVX2 6×16 kernel (valgrind does not decode AVX-512). Cachegrind simulates I1, D1 and one last',
  'level "LL"; LL is set to the simulated CPU\'s **L2**, so an "LL miss" is an access served by L3 or DRAM.',
  'Counts are the gemm alone (the input fill, counted by `gemm_driver 0`, subtracted). Rates are per data reference;',
  '"LL local" = LL misses / D1 misses.',
  '',
  '| simulated caches (cachegrind) | blocking (derived from) | KC | MC | NC | data refs | D1 misses | D1 miss rate | LL (=L2) misses | LL miss rate | LL local |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.simulated === 'zen3' ? 'Zen 3: D1 32 KiB/8, LL 512 KiB/8' : 'Zen 4: D1 32 KiB/8, LL 1 MiB/8'} | ${r.blocking === 'before' ? 'before (fixed)' : process.env.SWEEP ? `${r.blocking}` : `${r.blocking}: L1 ${KiB(r.caches.l1)}, L2 ${KiB(r.caches.l2)}, L3 ${KiB(r.caches.l3)}/${r.caches.l3Sharing}`} | ${r.kc} | ${r.mc} | ${r.nc} | ${r.dataRefs.toLocaleString('en')} | ${r.d1Misses.toLocaleString('en')} | ${pct(r.d1MissRate)} | ${r.llMisses.toLocaleString('en')} | ${pct(r.llMissRate)} | ${pct(r.llLocalMissRate)} |`),
  '',
  'Cachegrind\'s own description of each hierarchy: ' + [...new Set(rows.map((r) => r.desc.join('; ')))].join(' / '),
];
const results = { createdAt: new Date().toISOString(), cpu: os.cpus()[0]?.model, matmul: [1024, 1024, 1024], isa: 'avx2', threads: 1, rows };
for (const [f, text] of [[`${outName}.json`, JSON.stringify(results, null, 2) + '\n'], [`${outName}.md`, md.join('\n') + '\n']]) {
  await writeFile(path.join(here, `${f}.tmp`), text);
  await rename(path.join(here, `${f}.tmp`), path.join(here, f));
}
console.log(md.join('\n'));

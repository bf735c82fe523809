#!/usr/bin/env node
// The SOUL table on real TOFU (../shared/data/tofu) with the stories260K Llama (../shared/models/stories260K), built so
// that it can tell second-order from first-order unlearning:
//  1. fine-tune a retain-only model (retain subset + real_authors + world_facts) and a target model (the same + the
//     forget subsets), both from stories260K's weights with one recipe;
//  2. SELECTION on forget01 (TOFU's last 2 authors, 40 QA; the target learned them too): every cell — objective ×
//     optimizer family — runs its own grid (AdamW: lr; Sophia: lr × ρ, ρ given as the target win rate it is calibrated
//     to; the SOUL preset: lr; influence: damping) and picks the setting with the best forget quality among those that
//     keep ≥ 0.9 × the retain-only model's utility (ties: higher utility), else the best utility;
//  3. REPORT on the first authors of forget10 (4 = 80 QA in the full plan, 2 in the budget plan; disjoint from forget01): each cell at its chosen setting, every
//     seed, with the median; a row whose forget quality did not rise above the target's says so; Sophia's win rates
//     (median over steps, and the range) are read from each run's step log.
// Every run is one process calling the pipeline API (job.mjs → @unlearn/pipeline) with its own run folder under bench/quality/runs/<plan>/ (git-ignored); a run
// with a summary.json is reused, so the script resumes. Jobs run `--jobs` at a time; none starts after `--minutes`
// (the whole plan's wall budget), and results are written for whatever finished, labelled.
// Usage: pnpm build && node bench/quality/run.mjs [--plan budget|full] [--minutes 40] [--jobs 2] [--seeds 2]
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const shared = path.resolve(root, '../shared');
const job = path.join(here, 'job.mjs'); // one pipeline-API run per process
const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const planName = args.plan ?? 'budget';
const started = Date.now();
const minutes = Number(args.minutes ?? 40);
const deadline = started + minutes * 60_000;
const parallel = Number(args.jobs ?? 2);

// Grids per optimizer family. Sophia's ρ axis is the target win rate ρ is calibrated to at every refresh (0.1–0.5 is
// the Sophia README's recommended range); the SOUL preset is OPTML-Group/SOUL's own configuration at a range of lr
// around its 5e-6. Influence: damping λ, α = T_f/T_r (the Newton step; src/influence.ts).
const PLANS = {
  // what fits ~40 minutes on a 2-core machine shared with other jobs: small evaluations, 2 report authors
  budget: {
    seeds: 2, finetuneEpochs: 10, unlearnEpochs: 3, reportAuthors: 2,
    selectionEval: { maxItems: 20, maxNewTokens: 32 }, reportEval: { maxItems: 40, maxNewTokens: 200 },
    grids: {
      adamw: [{ lr: 1e-4 }, { lr: 1e-3 }],
      'sophia-gnb': [{ lr: 1e-4, q: 0.1 }, { lr: 1e-4, q: 0.5 }, { lr: 1e-3, q: 0.1 }, { lr: 1e-3, q: 0.5 }],
      'sophia-fisher': [{ lr: 1e-4, q: 0.25 }, { lr: 1e-3, q: 0.25 }],
      soul: [{ lr: 5e-6 }, { lr: 5e-4 }],
      influence: [{ damping: 1 }, { damping: 10 }],
    },
  },
  full: {
    seeds: 3, finetuneEpochs: 20, unlearnEpochs: 3, reportAuthors: 4,
    selectionEval: { maxItems: 40, maxNewTokens: 200 }, reportEval: { maxItems: 80, maxNewTokens: 200 },
    grids: {
      adamw: [3e-5, 1e-4, 3e-4, 1e-3].map((lr) => ({ lr })),
      'sophia-gnb': [1e-4, 3e-4, 1e-3].flatMap((lr) => [0.1, 0.25, 0.5].map((q) => ({ lr, q }))),
      'sophia-fisher': [1e-4, 3e-4, 1e-3].flatMap((lr) => [0.1, 0.25, 0.5].map((q) => ({ lr, q }))),
      soul: [5e-6, 5e-5, 5e-4].map((lr) => ({ lr })),
      influence: [0.1, 1, 10].map((damping) => ({ damping })),
    },
  },
};
const plan = PLANS[planName];
if (!plan) throw new Error(`--plan: "${planName}" is not one of ${Object.keys(PLANS).join(', ')}`);
const seeds = Array.from({ length: Number(args.seeds ?? plan.seeds) }, (_, i) => i);
const UTILITY_KEPT = 0.9; // of the retain-only model's model utility
const runsDir = path.join(here, 'runs', 'soul');
const tofu = path.join(shared, 'data/tofu');
const stories = path.join(shared, 'models/stories260K');
// maxLength 512: no TOFU answer is cut (stories260K tokens: median 159, max < 512)
const dataBase = { dir: tofu, retain: 'retain90', retainAuthors: 8, maxLength: 512 };
const SPLITS = {
  selection: { forget: 'forget01', holdout: 'holdout01' },
  report: { forget: 'forget10', forgetAuthors: plan.reportAuthors, holdout: 'holdout10' },
};
const base = { backend: args.backend ?? 'native', out: runsDir, log: { quiet: true } };

// --- running jobs, `parallel` at a time, none started after the deadline -----------------------------------------
const env = { ...process.env, UNLEARN_NATIVE_THREADS: process.env.UNLEARN_NATIVE_THREADS ?? '1' }; // 1 thread: no barrier stalls on a shared box
function exec(argv, timeout) {
  return new Promise((resolve) => execFile(process.execPath, argv, { env, timeout, maxBuffer: 1 << 26 }, (error, stdout, stderr) => resolve({ error, stderr })));
}
const log = (s) => process.stderr.write(`[${((Date.now() - started) / 60000).toFixed(1)} min] ${s}\n`);

async function runCli(command, name, config) {
  const dir = path.join(runsDir, name);
  const summaryFile = path.join(dir, 'summary.json');
  if (existsSync(summaryFile)) return { name, dir, summary: JSON.parse(await readFile(summaryFile, 'utf8')), cached: true };
  if (Date.now() > deadline) return { name, dir, skipped: 'out of time' };
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.join(runsDir, 'configs'), { recursive: true });
  const file = path.join(runsDir, 'configs', `${name}.json`);
  await writeFile(file, JSON.stringify({ ...base, ...config, name }, null, 2));
  const t0 = Date.now();
  const { error, stderr } = await exec([job, command, file], Math.max(60_000, deadline + 5 * 60_000 - Date.now()));
  if (error) {
    const why = (stderr || error.message || '').toString().trim().split('\n').filter(Boolean).pop();
    log(`${name} FAILED (${why})`);
    return { name, dir, error: why };
  }
  const summary = JSON.parse(await readFile(summaryFile, 'utf8'));
  const m = summary.metrics ?? {};
  log(`${name}: ${((Date.now() - t0) / 1000).toFixed(0)} s, FQ ${m.forgetQuality?.toExponential?.(2)}, MU ${m.modelUtility?.toFixed?.(3)}`);
  return { name, dir, summary };
}

async function pool(jobs) {
  const results = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(parallel, jobs.length) }, async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = { ...jobs[i].meta, ...(await runCli(jobs[i].command, jobs[i].name, jobs[i].config)) };
    }
  }));
  return results;
}

// --- the two fine-tuned models -------------------------------------------------------------------------------------
const finetune = (train, forgetAuthors, extra) => ({
  model: { path: stories },
  data: { ...dataBase, train, forget: 'forget10', forgetAuthors, holdout: 'holdout10', extraTrain: ['real_authors', 'world_facts', ...extra] },
  optimizer: { name: 'adamw', lr: 3e-3 },
  training: { epochs: plan.finetuneEpochs, batchSize: 16, seed: 0, schedule: 'cosine', warmupSteps: 10 },
  eval: { enabled: false },
});
const [retainRun, targetRun] = await pool([
  { command: 'finetune', name: 'retain-only', config: finetune('retain90', 4, []) },
  { command: 'finetune', name: 'target', config: finetune('full', plan.reportAuthors, ['forget01']) },
]);
if (!retainRun.summary || !targetRun.summary) {
  log('fine-tuning did not finish; nothing to unlearn');
  process.exit(1);
}
const ckpt = (run) => path.join(run.dir, 'checkpoint');

// --- baselines on both splits: the retain-only model's truth ratios are what forget quality compares with ----------
const evalJob = (who, run, split, evalCfg, retainEval) => ({
  command: 'eval', name: `${who}-eval-${split}`, meta: { split, who },
  config: { model: { path: ckpt(run) }, data: { ...dataBase, ...SPLITS[split] }, eval: { ...evalCfg, ...(retainEval ? { retainEval } : {}) } },
});
const [retainSel, retainRep] = await pool([evalJob('retain-only', retainRun, 'selection', plan.selectionEval), evalJob('retain-only', retainRun, 'report', plan.reportEval)]);
const retainEval = { selection: path.join(retainSel.dir, 'eval.json'), report: path.join(retainRep.dir, 'eval.json') };
const [targetSel, targetRep] = await pool([
  evalJob('target', targetRun, 'selection', plan.selectionEval, retainEval.selection),
  evalJob('target', targetRun, 'report', plan.reportEval, retainEval.report),
]);
const baseline = {
  retainOnly: { selection: retainSel.summary?.metrics, report: retainRep.summary?.metrics },
  target: { selection: targetSel.summary?.metrics, report: targetRep.summary?.metrics },
};
const keptUtility = (split) => UTILITY_KEPT * (baseline.retainOnly[split]?.modelUtility ?? 0);

// --- the cells -----------------------------------------------------------------------------------------------------
const OBJECTIVES = ['ga', 'graddiff', 'npo', 'idk'];
// the order groups run in: the comparison SOUL is about (GradDiff, NPO) first
const PRIORITY = ['graddiff', 'npo', 'ga', 'idk'];
const optimizerOf = {
  adamw: (s) => ({ optimizer: { name: 'adamw', lr: s.lr } }),
  'sophia-gnb': (s) => ({ optimizer: { name: 'sophia', lr: s.lr, options: { estimator: 'gnb', targetWinRate: s.q } } }),
  'sophia-fisher': (s) => ({ optimizer: { name: 'sophia', lr: s.lr, options: { estimator: 'fisher', targetWinRate: s.q } } }),
  // OPTML-Group/SOUL: SophiaG preset, HF Trainer's linear decay with 10% warm-up and grad-norm clip 1.0
  soul: (s, steps) => ({ optimizer: { name: 'sophia', lr: s.lr, options: { preset: 'soul-tofu' } }, training: { schedule: 'linear', warmupSteps: Math.max(1, Math.round(steps / 10)), clipNorm: 1 } }),
};
const cells = [
  ...OBJECTIVES.flatMap((objective) => Object.keys(optimizerOf).map((opt) => ({ cell: `${objective} × ${opt}`, objective, opt }))),
  { cell: 'influence (one-shot)', objective: 'ga', opt: 'influence' },
  { cell: 'npo + wagle × adamw', objective: 'npo', opt: 'adamw', mask: true },
  { cell: 'npo + wagle × sophia-gnb', objective: 'npo', opt: 'sophia-gnb', mask: true },
];
const gridOf = (c) => plan.grids[c.opt];
const settingName = (s) => Object.entries(s).map(([k, v]) => `${k}${v}`).join('-');
// SOUL's GradDiff weights the retain term by γ = 2 (src/unlearn/GA.py: loss = −forget + γ·retain)
const objectiveOf = (c) => ({ name: c.objective, ...(c.opt === 'soul' && c.objective === 'graddiff' ? { options: { retainWeight: 2 } } : {}) });
const forgetRows = { selection: 40, report: 20 * plan.reportAuthors };

function unlearnJob(c, s, split, seed) {
  const steps = Math.ceil(forgetRows[split] / 8) * plan.unlearnEpochs;
  const opt = c.opt === 'influence'
    ? { optimizer: { name: 'influence', options: { solver: 'woodfisher', damping: s.damping } }, training: { steps: 1, batchSize: 8, seed } }
    : optimizerOf[c.opt](s, steps);
  const name = `${split}-${c.cell.replace(/[^\w]+/g, '-')}-${settingName(s)}-s${seed}`;
  return {
    command: 'unlearn', name, meta: { ...c, setting: s, split, seed },
    config: {
      model: { path: ckpt(targetRun) }, data: { ...dataBase, ...SPLITS[split] }, objective: objectiveOf(c),
      ...opt, training: { epochs: plan.unlearnEpochs, batchSize: 8, seed, ...(opt.training ?? {}) },
      ...(c.mask ? { mask: { name: 'wagle', keep: 0.5 } } : {}),
      eval: { ...(split === 'selection' ? plan.selectionEval : plan.reportEval), retainEval: retainEval[split] },
    },
  };
}

/** Sophia's per-step stats from a run's step log: win rate (median, min, max over steps) and ρ. */
async function stepStats(dir) {
  try {
    const lines = (await readFile(path.join(dir, 'log.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const steps = lines.filter((e) => e.event === 'step' && e.label === 'unlearn');
    const series = (k) => steps.map((e) => e[k]).filter((v) => typeof v === 'number');
    const med = (xs) => (xs.length ? [...xs].sort((a, b) => a - b)[xs.length >> 1] : null);
    const w = series('winRate');
    return w.length ? { winRate: med(w), winRateMin: Math.min(...w), winRateMax: Math.max(...w), rho: med(series('rho')), hMedian: med(series('hMedian')) } : {};
  } catch {
    return {};
  }
}

// --- selection then report, one objective at a time (most-asked first), so a run cut by the budget leaves complete
// rows: for each group, every cell's grid on forget01 (seed 0) → each cell's choice → its report run (seed 0); further
// seeds of every chosen cell at the end ---------------------------------------------------------------------------------
const better = (a, b) => (b.fq - a.fq) || (b.mu - a.mu);
const selection = [];
const report = [];
const chosen = new Map();
function choose(c) {
  const runs = selection.filter((r) => r.cell === c.cell && r.summary).map((r) => ({ setting: r.setting, fq: r.summary.metrics.forgetQuality ?? 0, mu: r.summary.metrics.modelUtility ?? 0 }));
  if (!runs.length) return null;
  const kept = runs.filter((r) => r.mu >= keptUtility('selection'));
  return { ...(kept.length ? kept.sort(better)[0] : runs.sort((a, b) => b.mu - a.mu)[0]), utilityKept: kept.length > 0 };
}
const groups = [...PRIORITY.map((o) => cells.filter((c) => c.objective === o && !c.mask && c.opt !== 'influence')), cells.filter((c) => c.opt === 'influence'), cells.filter((c) => c.mask)];
for (const group of groups) {
  const sel = await pool(group.filter((c) => !c.mask).flatMap((c) => gridOf(c).map((s) => unlearnJob(c, s, 'selection', 0))));
  for (const r of sel) Object.assign(r, await stepStats(r.dir));
  selection.push(...sel);
  for (const c of group) {
    // WAGLE: NPO's chosen setting for the same optimizer, with the mask (no grid of its own)
    const inherit = c.mask ? chosen.get(`npo × ${c.opt}`) : undefined;
    chosen.set(c.cell, c.mask ? (inherit ? { ...inherit, inherited: `npo × ${c.opt}` } : null) : choose(c));
  }
  const rep = await pool(group.filter((c) => chosen.get(c.cell)).map((c) => unlearnJob(c, chosen.get(c.cell).setting, 'report', seeds[0])));
  for (const r of rep) Object.assign(r, await stepStats(r.dir));
  report.push(...rep);
}
for (const seed of seeds.slice(1)) {
  const rep = await pool(cells.filter((c) => chosen.get(c.cell)).map((c) => unlearnJob(c, chosen.get(c.cell).setting, 'report', seed)));
  for (const r of rep) Object.assign(r, await stepStats(r.dir));
  report.push(...rep);
}
for (const c of cells) if (!chosen.has(c.cell)) chosen.set(c.cell, null);

// --- tables ----------------------------------------------------------------------------------------------------------
const fmt = (v) => (v === null || v === undefined ? '—' : Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(1) : Number(v.toPrecision(3)).toString());
const median = (xs) => {
  const s = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  if (!s.length) return null;
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};
const targetFQ = baseline.target.report?.forgetQuality ?? null;
const rows = cells.map((c) => {
  const ch = chosen.get(c.cell);
  const runs = report.filter((r) => r.cell === c.cell).sort((a, b) => a.seed - b.seed);
  const done = runs.filter((r) => r.summary);
  const m = (k) => median(done.map((r) => r.summary.metrics[k]));
  const fq = m('forgetQuality');
  return {
    cell: c.cell, chosen: ch, seedsRun: done.length, seedsPlanned: seeds.length, fq, mu: m('modelUtility'), rouge: m('forgetRougeL'), privleak: m('privleak'),
    winRate: median(done.map((r) => r.winRate)), winRange: done.some((r) => r.winRate !== undefined) ? [Math.min(...done.map((r) => r.winRateMin ?? 1)), Math.max(...done.map((r) => r.winRateMax ?? 0))] : null,
    kept: m('modelUtility') !== null && m('modelUtility') >= keptUtility('report'),
    moved: fq !== null && targetFQ !== null ? fq > 10 * targetFQ : null,
    perSeed: runs.map((r) => (r.summary ? { seed: r.seed, fq: r.summary.metrics.forgetQuality, mu: r.summary.metrics.modelUtility, winRate: r.winRate } : { seed: r.seed, missing: r.skipped ?? r.error ?? 'not run' })),
  };
});
const settingText = (ch) => (ch ? `${settingName(ch.setting).replace(/-/g, ', ')}${ch.utilityKept ? '' : ' (no setting kept utility)'}${ch.inherited ? ` (from ${ch.inherited})` : ''}` : 'not selected');
const md = [
  `# SOUL on TOFU (${planName} plan): stories260K, what second-order unlearning does here`,
  '',
  `Models fine-tuned ${plan.finetuneEpochs} epochs (AdamW 3e-3, cosine) from stories260K on retain90's first 8 authors + real_authors + world_facts (retain-only) and the same + forget10's first ${plan.reportAuthors} authors + forget01 (target). ` +
    `Selection on forget01 (40 QA, seed 0, eval ${plan.selectionEval.maxItems} items/split, ${plan.selectionEval.maxNewTokens} new tokens); report on forget10's first ${plan.reportAuthors} authors (${20 * plan.reportAuthors} QA, disjoint), eval ${plan.reportEval.maxItems} items/split, ${plan.reportEval.maxNewTokens} new tokens, maxLength 512 (no answer cut). ` +
    `Unlearning: ${plan.unlearnEpochs} epochs, batch 8 (+ 8 retain). Kept utility = model utility ≥ ${UTILITY_KEPT} × the retain-only model's (report split: ${fmt(keptUtility('report'))}). Wall budget ${minutes} min, ${parallel} jobs at a time; generated ${new Date().toISOString()}.`,
  '',
  `Target: forget quality ${fmt(targetFQ)}, model utility ${fmt(baseline.target.report?.modelUtility)}; retain-only model utility ${fmt(baseline.retainOnly.report?.modelUtility)} (report split).`,
  '',
  '## Report split: each cell at the setting chosen on forget01 (median over seeds; per-seed values below)',
  '',
  '| method | chosen setting | seeds | forget quality ↑ | model utility ↑ | utility kept | forget ROUGE-L ↓ | privleak (→0) | Sophia win rate (median [min, max]) | note |',
  '|---|---|---:|---:|---:|:-:|---:|---:|---:|---|',
  ...rows.map((r) => `| ${r.cell} | ${settingText(r.chosen)} | ${r.seedsRun}/${r.seedsPlanned} | ${fmt(r.fq)} | ${fmt(r.mu)} | ${r.seedsRun ? (r.kept ? 'yes' : 'no') : '—'} | ${fmt(r.rouge)} | ${fmt(r.privleak)} | ${r.winRate !== null && r.winRate !== undefined ? `${fmt(r.winRate)} [${fmt(r.winRange[0])}, ${fmt(r.winRange[1])}]` : '—'} | ${r.seedsRun === 0 ? 'not run (out of time)' : r.moved === false ? 'did not move forget quality (≤ 10× the target\'s)' : ''} |`),
  '',
  '## Best forget quality at kept utility, per objective × optimizer (report split, median over seeds)',
  '',
  `| objective | ${Object.keys(optimizerOf).join(' | ')} |`,
  `|---|${Object.keys(optimizerOf).map(() => '---:').join('|')}|`,
  ...OBJECTIVES.map((o) => `| ${o} | ${Object.keys(optimizerOf).map((opt) => { const r = rows.find((x) => x.cell === `${o} × ${opt}`); return !r?.seedsRun ? 'not run' : r.kept ? fmt(r.fq) : `utility lost (FQ ${fmt(r.fq)}, MU ${fmt(r.mu)})`; }).join(' | ')} |`),
  '',
  '## Per seed (report split)',
  '',
  '| method | seed | forget quality | model utility | Sophia win rate |',
  '|---|---:|---:|---:|---:|',
  ...rows.flatMap((r) => r.perSeed.map((s) => (s.missing ? `| ${r.cell} | ${s.seed} | ${s.missing} | | |` : `| ${r.cell} | ${s.seed} | ${fmt(s.fq)} | ${fmt(s.mu)} | ${fmt(s.winRate)} |`))),
  '',
  '## Selection split (forget01): the frontier each cell\'s grid traced (seed 0)',
  '',
  `Retain-only model utility ${fmt(baseline.retainOnly.selection?.modelUtility)} (kept ≥ ${fmt(keptUtility('selection'))}); target forget quality ${fmt(baseline.target.selection?.forgetQuality)}.`,
  '',
  '| method | setting | forget quality | model utility | Sophia win rate (median [min, max]) | ρ (median) |',
  '|---|---|---:|---:|---:|---:|',
  ...selection.map((r) => `| ${r.cell} | ${settingName(r.setting)} | ${r.summary ? fmt(r.summary.metrics.forgetQuality) : r.skipped ?? r.error ?? '—'} | ${r.summary ? fmt(r.summary.metrics.modelUtility) : ''} | ${r.winRate !== undefined ? `${fmt(r.winRate)} [${fmt(r.winRateMin)}, ${fmt(r.winRateMax)}]` : '—'} | ${fmt(r.rho)} |`),
  '',
].join('\n');
const results = {
  createdAt: new Date().toISOString(), plan: { name: planName, ...plan, seeds }, minutes, jobs: parallel, baseline, keptUtility: { selection: keptUtility('selection'), report: keptUtility('report') },
  chosen: Object.fromEntries(chosen), rows,
  selection: selection.map(({ summary, ...r }) => ({ ...r, metrics: summary?.metrics })), report: report.map(({ summary, ...r }) => ({ ...r, metrics: summary?.metrics })),
};
for (const [file, text] of [[`results-soul.json`, `${JSON.stringify(results, null, 2)}\n`], [`results-soul.md`, md]]) {
  await writeFile(path.join(here, `${file}.tmp`), text);
  await rename(path.join(here, `${file}.tmp`), path.join(here, file));
}
process.stdout.write(md);
log('done');

// The TOFU pipeline on the real dataset (../shared/data/tofu beside the checkout, or --data), through the pipeline API:
// fine-tune a retain-only model and a target model from the same weights, forget the forget split with NPO under
// SOUL (Sophia) and AdamW, evaluate (forget quality against the retain-only model, model utility, ROUGE-L, privleak)
// and write one report. Every option has a default; e.g.
//   node tofu.mjs --model ../../../shared/models/stories260K --split forget01 --authors 2,18 --epochs 20
import path from 'node:path';
import { parseArgs } from 'node:util';
import { finetune, unlearn, writeReport } from '@unlearn/pipeline';
import { progressPrinter } from '@unlearn/cli';

const here = path.dirname(new URL(import.meta.url).pathname);
const { values: o } = parseArgs({
  options: {
    model: { type: 'string', default: path.resolve(here, '../../../shared/models/stories260K') },
    data: { type: 'string', default: path.resolve(here, '../../../shared/data/tofu') },
    split: { type: 'string', default: 'forget01' }, // forget01 | forget05 | forget10
    authors: { type: 'string' }, // "<forget>,<retain>": first N authors of each split (TOFU has 20 QA per author)
    epochs: { type: 'string', default: '20' },
    'unlearn-epochs': { type: 'string', default: '5' },
    lr: { type: 'string', default: '1e-3' },
    backend: { type: 'string', default: 'wasm' },
    out: { type: 'string', default: 'runs/tofu' },
    'eval-items': { type: 'string', default: '40' },
    // stories260K knows no real authors or world facts: teach them in fine-tuning, or model utility is 0 ('' = off)
    'extra-train': { type: 'string', default: 'real_authors,world_facts' },
  },
});
const pct = Number(o.split.slice(-2));
const retainSplit = `retain${String(100 - pct).padStart(2, '0')}`;
const [forgetAuthors, retainAuthors] = (o.authors ?? '').split(',').filter(Boolean).map(Number);
const stamp = new Date().toISOString().replace(/[-:.]/g, '');
const out = path.resolve(o.out, stamp);
const events = { onEvent: progressPrinter() }; // progress bars on stderr, as the CLI shows them

const base = {
  backend: o.backend, out,
  data: { dir: o.data, forget: o.split, retain: retainSplit, forgetAuthors, retainAuthors },
  eval: { maxItems: Number(o['eval-items']) },
};
const ft = (name, train, evalExtra = {}) => ({
  ...base, name, model: { path: o.model },
  data: { ...base.data, train, extraTrain: o['extra-train'] ? o['extra-train'].split(',') : [] },
  optimizer: { name: 'adamw', lr: 3e-3 }, training: { epochs: Number(o.epochs), batchSize: 16 },
  eval: { ...base.eval, enabled: true, ...evalExtra },
});
const retainOnly = await finetune(ft('retain-only', retainSplit), events);
const retainEval = retainOnly.folder.eval;
const target = await finetune(ft('target', 'full', { retainEval }), events);
const runs = [];
for (const [name, optimizer] of [['npo-sophia', { name: 'sophia', options: { estimator: 'gnb' } }], ['npo-adamw', { name: 'adamw' }]]) {
  const r = await unlearn({
    ...base, name, model: { path: target.folder.checkpoint }, objective: { name: 'npo' },
    optimizer: { ...optimizer, lr: Number(o.lr) }, training: { epochs: Number(o['unlearn-epochs']) }, eval: { ...base.eval, retainEval },
  }, events);
  runs.push(r.summary);
}
const report = await writeReport(path.join(out, 'report'), {
  title: `TOFU ${o.split}: NPO with SOUL (Sophia) vs AdamW`, runs, baselines: [target.summary, retainOnly.summary],
  createdAt: new Date().toISOString(),
});
console.log(`report: ${report.html}`);

// The TOFU pipeline on the real dataset (../shared/data/tofu beside the checkout, or --data):
// fine-tune a retain-only model and a target model from the same weights, forget the forget split with NPO under
// SOUL (Sophia) and AdamW, evaluate (forget quality against the retain-only model, model utility, ROUGE-L, privleak)
// and write one report. Every option has a default; e.g.
//   node tofu.mjs --model ../../../shared/models/stories260K --split forget01 --authors 2,18 --epochs 20
import path from 'node:path';
import { parseArgs } from 'node:util';
import { main } from '@unlearn/cli';

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
const [forgetAuthors, retainAuthors] = (o.authors ?? '').split(',').filter(Boolean);
const stamp = new Date().toISOString().replace(/[-:.]/g, '');
const out = path.resolve(o.out, stamp);
const common = [
  '--backend', o.backend, '--out', out, '--data-dir', o.data, '--data-forget', o.split, '--data-retain', retainSplit,
  ...(forgetAuthors ? ['--data-forget-authors', forgetAuthors] : []), ...(retainAuthors ? ['--data-retain-authors', retainAuthors] : []),
  '--eval-max-items', o['eval-items'],
];
const step = async (...argv) => {
  const code = await main([...argv, ...common]);
  if (code !== 0) process.exit(code);
};
const ft = [...(o['extra-train'] ? ['--data-extra-train', o['extra-train']] : []), '--model-path', o.model, '--training-epochs', o.epochs, '--optimizer-lr', '3e-3', '--training-batch-size', '16', '--eval-enabled', 'true'];
await step('finetune', '--name', 'retain-only', '--data-train', retainSplit, ...ft);
const retainEval = path.join(out, 'retain-only', 'eval.json');
await step('finetune', '--name', 'target', '--data-train', 'full', '--eval-retain-eval', retainEval, ...ft);
const target = path.join(out, 'target', 'checkpoint');
for (const [name, opt] of [['npo-sophia', ['--optimizer-name', 'sophia', '--optimizer-options', 'estimator=gnb']], ['npo-adamw', ['--optimizer-name', 'adamw']]]) {
  await step('unlearn', '--name', name, '--model-path', target, '--objective-name', 'npo', ...opt, '--optimizer-lr', o.lr,
    '--training-epochs', o['unlearn-epochs'], '--eval-retain-eval', retainEval);
}
await main(['report', path.join(out, 'npo-sophia'), path.join(out, 'npo-adamw'), '--baseline', path.join(out, 'target'), path.join(out, 'retain-only'),
  '--out', path.join(out, 'report'), '--title', `TOFU ${o.split}: NPO with SOUL (Sophia) vs AdamW`]);

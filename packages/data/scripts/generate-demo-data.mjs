#!/usr/bin/env node
// Writes a TOFU-shaped demo dataset of fictitious authors (see src/demo-dataset.ts). Needs a build first:
//   pnpm --filter @unlearn/data build
//   node packages/data/scripts/generate-demo-data.mjs --out demo-data --seed 0 --authors 10 --forget-authors 1
import { parseArgs } from 'node:util';
import { writeDemoDataset } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    seed: { type: 'string', default: '0' },
    authors: { type: 'string', default: '10' },
    'forget-authors': { type: 'string', default: '1' },
    'holdout-authors': { type: 'string' },
    overwrite: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
const usage = 'usage: generate-demo-data.mjs --out DIR [--seed N] [--authors N] [--forget-authors N] [--holdout-authors N] [--overwrite]';
if (values.help || values.out === undefined) {
  console.log(usage);
  process.exit(values.help ? 0 : 2);
}
const integer = (flag) => {
  const text = values[flag];
  const n = Number(text);
  if (!Number.isInteger(n)) {
    console.error(`generate-demo-data: --${flag} must be an integer, got "${text}"`);
    process.exit(2);
  }
  return n;
};

try {
  const demo = await writeDemoDataset(values.out, {
    seed: integer('seed'),
    authors: integer('authors'),
    forgetAuthors: integer('forget-authors'),
    holdoutAuthors: values['holdout-authors'] === undefined ? undefined : integer('holdout-authors'),
    overwrite: values.overwrite,
  });
  const rows = Object.entries(demo.files).map(([name, r]) => `${name} (${r.length})`);
  console.log(`wrote ${values.out}: ${rows.join(', ')}, demo.json`);
  console.log(`forget: ${demo.profiles.forget.map((p) => p.name).join(', ')}; splits ${JSON.stringify(demo.splits)}`);
} catch (error) {
  console.error(`generate-demo-data: ${error.message}`);
  process.exit(1);
}

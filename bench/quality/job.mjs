#!/usr/bin/env node
// One benchmark job through the pipeline API (@unlearn/pipeline's finetune / unlearn / evaluate), in its own process so
// that jobs can run side by side: `node bench/quality/job.mjs <finetune|unlearn|eval> <config.json>` (absolute paths).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const pipeline = await import(path.join(root, 'packages/pipeline/dist/index.js'));
const [command, file] = process.argv.slice(2);
const run = { finetune: pipeline.finetune, unlearn: pipeline.unlearn, eval: pipeline.evaluate }[command];
if (!run || !file) throw new Error('usage: job.mjs <finetune|unlearn|eval> <config.json>');
const config = JSON.parse(await readFile(file, 'utf8'));
const { summary } = await run(config);
process.stdout.write(`${JSON.stringify({ name: summary.name, metrics: summary.metrics })}\n`);

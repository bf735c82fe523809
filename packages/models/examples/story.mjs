// Loads the stories260K Llama from ../shared and prints a story (greedy, then sampled).
// Run from the repository root after `pnpm --filter @unlearn/models build`: node packages/models/examples/story.mjs
import { initBackend } from '@unlearn/tensors';
import { generate, loadModel, loadTokenizer } from '@unlearn/models';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/models/stories260K');
await initBackend('wasm');
const model = await loadModel(dir);
const tokenizer = await loadTokenizer(dir);

const prompt = 'Once upon a time';
const greedy = await generate(model, tokenizer, [prompt], { maxNewTokens: 200 });
console.log(`${prompt}${greedy.texts[0]}\n`);
const sampled = await generate(model, tokenizer, [prompt, 'The cat'], { maxNewTokens: 100, doSample: true, temperature: 0.8, topP: 0.9, seed: 1 });
sampled.texts.forEach((t, i) => console.log(`${[prompt, 'The cat'][i]}${t}\n`));
model.dispose();

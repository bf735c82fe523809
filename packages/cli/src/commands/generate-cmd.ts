// `unlearn generate`: continue prompts with a model folder (greedy by default).
import { generate, loadModel, loadTokenizer } from '@unlearn/models';
import { plainTemplate } from '@unlearn/data';
import { assertFiniteWeights } from '@unlearn/pipeline';

export interface GenerateCommandOptions {
  model: string;
  prompts: string[];
  maxNewTokens: number;
  sample: boolean;
  seed: number;
  /** Wrap each prompt as a TOFU question (`Question: …\nAnswer:`). */
  question: boolean;
}

export async function generateCommand(o: GenerateCommandOptions): Promise<{ prompt: string; text: string }[]> {
  const [model, tokenizer] = await Promise.all([loadModel(o.model, { trainable: false }), loadTokenizer(o.model)]);
  try {
    await assertFiniteWeights(model, o.model);
    const template = plainTemplate();
    const prompts = o.question ? o.prompts.map((q) => template.prompt(q)) : o.prompts;
    const { texts } = await generate(model, tokenizer, prompts, { maxNewTokens: o.maxNewTokens, doSample: o.sample, seed: o.seed });
    return o.prompts.map((prompt, i) => ({ prompt, text: texts[i] }));
  } finally {
    model.dispose();
  }
}

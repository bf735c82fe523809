// The prompt format and answer boundary of a run (eval.template, eval.compat, eval.chatTemplate, …): evaluation and
// training (finetune / unlearn) encode with the same one, so a model is trained and scored in one format.
import { readFileSync } from 'node:fs';
import type { TemplateSettings } from '@unlearn/data';
import type { RunConfig } from './config/schema.js';

export function evalTemplate(config: RunConfig): TemplateSettings {
  const e = config.eval;
  let chatTemplate: string | undefined;
  if (e.template === 'chat' && e.chatTemplate) {
    try {
      chatTemplate = readFileSync(e.chatTemplate, 'utf8');
    } catch (err) {
      throw new Error(`${e.chatTemplate}: cannot read the chat template (${(err as Error).message.split('\n')[0]})`);
    }
  }
  return { template: e.template, boundary: e.compat, chatTemplate, systemPrompt: e.systemPrompt, dateString: e.dateString };
}

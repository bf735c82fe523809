// The prompt formats an evaluation (and the training that precedes it) can use, by name — open-unlearning's
// configs/model/*.yaml `template_args`:
//   plain        base models: "Question: {q}\nAnswer: {a}" (Llama-2-7b-hf, phi-1_5, stories260K)
//   llama2-inst  Llama-2-chat without its jinja: "[INST] {q} [/INST]{a}"
//   chat         the checkpoint's jinja chat template (or a user-supplied one), with a system prompt and fixed
//                template variables (open-unlearning pins Llama-3's `date_string` to "10 Apr 2025")
// `boundary` picks where the answer starts: 'project' masks the common token prefix of the prompt that ends before
// the answer's separating space (the first answer token is scored whole); 'open-unlearning' masks len(prompt_ids)
// tokens of the full sequence exactly as `preprocess_chat_instance` does (see encode-qa.ts).
import type { Tokenizer } from '@unlearn/core';
import { chatTemplate, plainTemplate, tagTemplate, tokenizerChatTemplate, type PromptFormatter } from './prompt-template.js';

export const TEMPLATE_NAMES = ['plain', 'llama2-inst', 'chat'] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];
export const BOUNDARIES = ['project', 'open-unlearning'] as const;
export type Boundary = (typeof BOUNDARIES)[number];

/** open-unlearning's default system prompt (configs/model/Llama-3.2-1B-Instruct.yaml). */
export const DEFAULT_SYSTEM_PROMPT = 'You are a helpful assistant.';
/** open-unlearning's pinned Llama-3 `date_string`. */
export const DEFAULT_DATE_STRING = '10 Apr 2025';

export interface TemplateSettings {
  template?: TemplateName;
  boundary?: Boundary;
  /** chat only: jinja source that replaces the tokenizer's `chat_template`. */
  chatTemplate?: string;
  /** chat only (default DEFAULT_SYSTEM_PROMPT; '' for none). */
  systemPrompt?: string;
  /** chat only (default DEFAULT_DATE_STRING). */
  dateString?: string;
}

/** The PromptFormatter a template name stands for under a boundary rule. */
export function templateFormatter(tokenizer: Tokenizer, settings: TemplateSettings = {}): PromptFormatter {
  const template = settings.template ?? 'plain';
  const compat = (settings.boundary ?? 'project') === 'open-unlearning';
  switch (template) {
    case 'plain':
      return compat ? tagTemplate({ userStart: 'Question: ', userEnd: '\n', asstStart: 'Answer: ' }) : plainTemplate();
    case 'llama2-inst':
      return compat
        ? tagTemplate({ userStart: '[INST] ', userEnd: ' [/INST]', asstStart: '' })
        : plainTemplate({ questionPrefix: '[INST] ', answerPrefix: ' [/INST]', answerSeparator: '' });
    case 'chat': {
      const systemPrompt = settings.systemPrompt ?? DEFAULT_SYSTEM_PROMPT;
      const options = { systemPrompt: systemPrompt === '' ? undefined : systemPrompt, variables: { date_string: settings.dateString ?? DEFAULT_DATE_STRING } };
      return settings.chatTemplate !== undefined
        ? chatTemplate({ template: settings.chatTemplate, specialTokens: tokenizer.specialTokens, ...options })
        : tokenizerChatTemplate(tokenizer, options);
    }
    default:
      throw new Error(`unknown template "${String(template)}"; known templates: ${TEMPLATE_NAMES.join(', ')}`);
  }
}

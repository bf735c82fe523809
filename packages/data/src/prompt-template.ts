// How a question (and its answer) become model text. The prompt is what the model conditions on; the answer is what
// carries the loss. `full(q, a)` starts with `prompt(q)` for every template here, so the label mask is exact.
import { Template } from '@huggingface/jinja';
import type { Tokenizer } from '@unlearn/core';

export interface PromptFormatter {
  /** The text the model is given: everything before the answer (a generation starts after it). */
  prompt(question: string): string;
  /** Prompt followed by the answer. */
  full(question: string, answer: string): string;
  /** Whether the tokenizer should add its own BOS/EOS; false when the template writes special tokens itself. */
  readonly addSpecialTokens: boolean;
  /** Whether `full` already ends the answer with an end-of-turn token (then no EOS is appended). */
  readonly endsTurn: boolean;
}

export interface PlainTemplateOptions {
  /** Before the question (default `Question: `). */
  questionPrefix?: string;
  /** After the question; the prompt ends here (default `\nAnswer:`). */
  answerPrefix?: string;
  /** Between prompt and answer (default one space, so SentencePiece sees `▁word` at the answer's start). */
  answerSeparator?: string;
}

/** `Question: {q}\nAnswer: {a}` by default; every piece configurable. */
export function plainTemplate(options: PlainTemplateOptions = {}): PromptFormatter {
  const questionPrefix = options.questionPrefix ?? 'Question: ';
  const answerPrefix = options.answerPrefix ?? '\nAnswer:';
  const answerSeparator = options.answerSeparator ?? ' ';
  const prompt = (question: string): string => `${questionPrefix}${question}${answerPrefix}`;
  return {
    prompt,
    full: (question, answer) => `${prompt(question)}${answerSeparator}${answer}`,
    addSpecialTokens: true,
    endsTurn: false,
  };
}

export interface ChatTemplateOptions {
  /** The Jinja source, e.g. `chat_template` from tokenizer_config.json (Tokenizer.chatTemplate). */
  template: string;
  /** Special token strings the template may reference (`bos_token`, `eos_token`, …): Tokenizer.specialTokens. */
  specialTokens?: Record<string, string>;
  /** A system message placed before the question, when given. */
  systemPrompt?: string;
  /** Extra template variables, e.g. `{ date_string: '10 Apr 2025' }` (open-unlearning pins Llama-3's date). */
  variables?: Record<string, unknown>;
}

type Message = { role: 'system' | 'user' | 'assistant'; content: string };

/**
 * A Hugging Face chat template rendered with @huggingface/jinja, as `apply_chat_template` does: the prompt is the
 * user turn with `add_generation_prompt=True`, the full text adds the assistant turn. The rendered text holds the
 * template's special tokens, so it is tokenized without adding more.
 */
export function chatTemplate(options: ChatTemplateOptions): PromptFormatter {
  let template: Template;
  try {
    template = new Template(options.template);
  } catch (error) {
    throw new Error(`chat template: cannot parse (${(error as Error).message.split('\n')[0]})`);
  }
  const specialTokens = options.specialTokens ?? {};
  const render = (messages: Message[], addGenerationPrompt: boolean): string =>
    template.render({ ...specialTokens, ...options.variables, messages, add_generation_prompt: addGenerationPrompt });
  const userTurn = (question: string): Message[] => [
    ...(options.systemPrompt === undefined ? [] : [{ role: 'system' as const, content: options.systemPrompt }]),
    { role: 'user', content: question },
  ];
  return {
    prompt: (question) => render(userTurn(question), true),
    full: (question, answer) => render([...userTurn(question), { role: 'assistant', content: answer }], false),
    addSpecialTokens: false,
    endsTurn: true,
  };
}

/** The tokenizer's own chat template (tokenizer_config.json `chat_template`) with its special tokens. */
export function tokenizerChatTemplate(
  tokenizer: Tokenizer, options: { systemPrompt?: string; variables?: Record<string, unknown> } = {},
): PromptFormatter {
  if (tokenizer.chatTemplate === undefined) throw new Error('chat template: the tokenizer has none (no chat_template in tokenizer_config.json)');
  return chatTemplate({
    template: tokenizer.chatTemplate, specialTokens: tokenizer.specialTokens, systemPrompt: options.systemPrompt, variables: options.variables,
  });
}

/** open-unlearning's non-chat `template_args` (configs/model/*.yaml): the prompt is `user_start + q + user_end + asst_start`. */
export interface TagTemplateOptions {
  userStart: string;
  userEnd: string;
  asstStart: string;
}

/**
 * open-unlearning's tag template (`preprocess_chat_instance` with `apply_chat_template: False`): prompt =
 * `userStart + q + userEnd + asstStart`, full = prompt + answer, both tokenized with the tokenizer's own BOS.
 */
export function tagTemplate(tags: TagTemplateOptions): PromptFormatter {
  const prompt = (question: string): string => `${tags.userStart}${question}${tags.userEnd}${tags.asstStart}`;
  return { prompt, full: (question, answer) => `${prompt(question)}${answer}`, addSpecialTokens: true, endsTurn: false };
}

import { describe, expect, it } from 'vitest';
import { chatTemplate, plainTemplate } from './prompt-template.js';

// The Llama-2-chat template as shipped in meta-llama/Llama-2-7b-chat-hf's tokenizer_config.json.
const LLAMA2_TEMPLATE =
  "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";
// ChatML as in Qwen2-Instruct (no default system prompt).
const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

describe('plainTemplate', () => {
  it('defaults to Question/Answer with the answer after one space', () => {
    const t = plainTemplate();
    expect(t.prompt('Who?')).toBe('Question: Who?\nAnswer:');
    expect(t.full('Who?', 'Me.')).toBe('Question: Who?\nAnswer: Me.');
    expect(t.addSpecialTokens).toBe(true);
    expect(t.endsTurn).toBe(false);
  });

  it('takes its strings from options', () => {
    const t = plainTemplate({ questionPrefix: 'Q: ', answerPrefix: ' A:', answerSeparator: '\t' });
    expect(t.full('x', 'y')).toBe('Q: x A:\ty');
  });
});

describe('chatTemplate', () => {
  const special = { bos_token: '<s>', eos_token: '</s>' };

  it('renders the Llama-2 template as apply_chat_template does', () => {
    const t = chatTemplate({ template: LLAMA2_TEMPLATE, specialTokens: special });
    expect(t.prompt('Who wrote it?')).toBe('<s>[INST] Who wrote it? [/INST]');
    expect(t.full('Who wrote it?', 'Basil did.')).toBe('<s>[INST] Who wrote it? [/INST] Basil did. </s>');
    expect(t.addSpecialTokens).toBe(false);
    expect(t.endsTurn).toBe(true);
  });

  it('puts a system prompt in the Llama-2 <<SYS>> block', () => {
    const t = chatTemplate({ template: LLAMA2_TEMPLATE, specialTokens: special, systemPrompt: 'Be brief.' });
    expect(t.prompt('Hi?')).toBe('<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi? [/INST]');
  });

  it('renders ChatML with the generation prompt only on the prompt', () => {
    const t = chatTemplate({ template: CHATML_TEMPLATE });
    expect(t.prompt('Who?')).toBe('<|im_start|>user\nWho?<|im_end|>\n<|im_start|>assistant\n');
    expect(t.full('Who?', 'Me.')).toBe('<|im_start|>user\nWho?<|im_end|>\n<|im_start|>assistant\nMe.<|im_end|>\n');
  });

  it('the full text starts with the prompt (so the label mask is exact)', () => {
    for (const template of [LLAMA2_TEMPLATE, CHATML_TEMPLATE]) {
      const t = chatTemplate({ template, specialTokens: special });
      expect(t.full('q?', 'a.').startsWith(t.prompt('q?'))).toBe(true);
    }
  });

  it('a template that does not parse is a one-line error', () => {
    expect(() => chatTemplate({ template: '{% for m in messages %}{{ m' })).toThrow(/^chat template: cannot parse \([^\n]+\)$/);
  });
});

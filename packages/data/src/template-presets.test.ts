// Template presets and the open-unlearning boundary, hand-derived with the character tokenizer (<s>=1, </s>=2,
// c → code+3), against preprocess_chat_instance (open-unlearning src/data/utils.py) read line by line.
import { IGNORE_INDEX } from '@unlearn/core';
import { describe, expect, it } from 'vitest';
import { encodeQa } from './encode-qa.js';
import { DEFAULT_DATE_STRING, templateFormatter } from './template-presets.js';
import { charIds, charTokenizer } from './test-utils/char-tokenizer.js';

const tok = charTokenizer();
const ignore = (n: number) => new Array<number>(n).fill(IGNORE_INDEX);
// A Llama-3-style template that prints date_string and the system prompt (enough to see both reach the render).
const DATED = "{{ bos_token }}{% for m in messages %}[{{ m['role'] }}]{% if m['role'] == 'system' %}{{ date_string }}|{% endif %}{{ m['content'] }}</s>{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}";

describe('templateFormatter', () => {
  it("plain: the project prompt stops before the space, open-unlearning's keeps it (the same full text)", () => {
    const project = templateFormatter(tok, { template: 'plain' });
    const ou = templateFormatter(tok, { template: 'plain', boundary: 'open-unlearning' });
    expect(project.prompt('Q?')).toBe('Question: Q?\nAnswer:');
    expect(ou.prompt('Q?')).toBe('Question: Q?\nAnswer: ');
    expect(project.full('Q?', 'A.')).toBe(ou.full('Q?', 'A.'));
    expect(ou.full('Q?', 'A.')).toBe('Question: Q?\nAnswer: A.');
  });

  it('llama2-inst: "[INST] q [/INST]a" under both boundaries (configs/model/Llama-2-7b-chat-hf.yaml)', () => {
    for (const boundary of ['project', 'open-unlearning'] as const) {
      const t = templateFormatter(tok, { template: 'llama2-inst', boundary });
      expect(t.prompt('Q?')).toBe('[INST] Q? [/INST]');
      expect(t.full('Q?', 'A.')).toBe('[INST] Q? [/INST]A.');
    }
  });

  it('chat: the default system prompt and the pinned date_string, or the caller\'s', () => {
    const t = templateFormatter(tok, { template: 'chat', chatTemplate: DATED });
    expect(t.prompt('Q?')).toBe(`<s>[system]${DEFAULT_DATE_STRING}|You are a helpful assistant.</s>[user]Q?</s>[assistant]`);
    const mine = templateFormatter(tok, { template: 'chat', chatTemplate: DATED, systemPrompt: '', dateString: '1 Jan 2000' });
    expect(mine.full('Q?', 'A.')).toBe('<s>[user]Q?</s>[assistant]A.</s>');
    expect(() => templateFormatter(tok, { template: 'chat' })).toThrow(/the tokenizer has none/);
  });
});

describe("encodeQa boundary 'open-unlearning' (preprocess_chat_instance)", () => {
  it('BOS + prompt + answer + EOS, len(prompt_ids) masked', async () => {
    const f = templateFormatter(tok, { boundary: 'open-unlearning' });
    const { examples } = await encodeQa(tok, [{ question: 'Q?', answer: 'A.' }], { formatter: f, boundary: 'open-unlearning' });
    const prompt = [1, ...charIds('Question: Q?\nAnswer: ')];
    expect(examples[0].inputIds).toEqual([...prompt, ...charIds('A.'), 2]);
    expect(examples[0].labels).toEqual([...ignore(prompt.length), ...charIds('A.'), 2]);
    expect(examples[0].prompt).toEqual(prompt);
  });

  it('truncates prompt and full text to maxLength, then appends EOS (maxLength + 1 tokens)', async () => {
    const f = templateFormatter(tok, { boundary: 'open-unlearning' });
    const prompt = [1, ...charIds('Question: Q?\nAnswer: ')];
    const { examples, report } = await encodeQa(tok, [{ question: 'Q?', answer: 'ABCDEF' }], {
      formatter: f, boundary: 'open-unlearning', maxLength: prompt.length + 2,
    });
    expect(examples[0].inputIds).toEqual([...prompt, ...charIds('AB'), 2]);
    expect(report.truncatedRows).toEqual([0]);
    expect(report.tokensCut).toBe(4);
  });

  it('chat rows get EOS when the last token is not EOS (ChatML ends in "\\n"), none when it is', async () => {
    const chatml = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}<|end|>\n{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}";
    const f = templateFormatter(tok, { template: 'chat', chatTemplate: chatml, systemPrompt: '', boundary: 'open-unlearning' });
    const [a] = (await encodeQa(tok, [{ question: 'Q', answer: 'A' }], { formatter: f, boundary: 'open-unlearning' })).examples;
    expect(a.inputIds.at(-1)).toBe(2);
    expect(a.inputIds.at(-2)).toBe(charIds('\n')[0]);
    // project boundary: a template that ends the turn gets no EOS
    const p = templateFormatter(tok, { template: 'chat', chatTemplate: chatml, systemPrompt: '' });
    const [b] = (await encodeQa(tok, [{ question: 'Q', answer: 'A' }], { formatter: p })).examples;
    expect(b.inputIds.at(-1)).toBe(charIds('\n')[0]);
    // a template that already ends with EOS: open-unlearning adds none
    const g = templateFormatter(tok, { template: 'chat', chatTemplate: DATED, systemPrompt: '', boundary: 'open-unlearning' });
    const [c] = (await encodeQa(tok, [{ question: 'Q', answer: 'A' }], { formatter: g, boundary: 'open-unlearning' })).examples;
    expect(c.inputIds.slice(-2)).toEqual([...charIds('A'), 2]);
    expect(c.inputIds.filter((x) => x === 2).length).toBe(2); // the user turn's </s> and the answer's, nothing appended
  });
});

import { readFileSync } from 'node:fs';
import { HFTokenizer, loadTokenizer } from '@unlearn/models';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Tokenizer } from '@unlearn/core';
import { IGNORE_INDEX } from '@unlearn/core';
import { encodeQa } from './encode-qa.js';
import { chatTemplate, plainTemplate, tokenizerChatTemplate } from './prompt-template.js';
import { charIds, charTokenizer } from './test-utils/char-tokenizer.js';
import { STORIES260K_DIR } from './test-utils/shared-data.js';

const golden = JSON.parse(readFileSync(new URL('../test/fixtures/golden.json', import.meta.url), 'utf8'));
const masked = (n: number): number[] => new Array<number>(n).fill(IGNORE_INDEX);

describe('encodeQa with a character tokenizer (hand-derived)', () => {
  const tokenizer = charTokenizer();

  it('masks BOS + prompt, labels the answer and the appended EOS', async () => {
    // "Question: Hi\nAnswer:" is 20 characters → BOS + 20 prompt tokens; the answer " Yo" is 3 tokens, then EOS (2).
    const { examples, report } = await encodeQa(tokenizer, [{ question: 'Hi', answer: 'Yo' }]);
    const prompt = [1, ...charIds('Question: Hi\nAnswer:')];
    expect(prompt).toHaveLength(21);
    expect(examples[0].inputIds).toEqual([...prompt, 35, 92, 114, 2]); // ' '=32+3, 'Y'=89+3, 'o'=111+3
    expect(examples[0].labels).toEqual([...masked(21), 35, 92, 114, 2]);
    expect(examples[0].truncated).toBe(false);
    expect(report).toEqual({ rows: 1, truncatedRows: [], tokensCut: 0, skippedRows: [], boundaryMerges: [] });
  });

  it('appendEos: false leaves the answer end open', async () => {
    const { examples } = await encodeQa(tokenizer, [{ question: 'Hi', answer: 'Yo' }], { appendEos: false });
    expect(examples[0].labels.slice(21)).toEqual([35, 92, 114]);
  });

  it('truncates the answer end to maxLength and reports it', async () => {
    const rows = [{ question: 'Hi', answer: 'Yo' }, { question: 'Hi', answer: 'Hello there' }];
    const { examples, report } = await encodeQa(tokenizer, rows, { maxLength: 24 });
    expect(examples[0].inputIds).toHaveLength(24); // 25 → 24: the EOS goes first
    expect(examples[0].labels.slice(21)).toEqual([35, 92, 114]);
    expect(examples[1].labels.slice(21)).toEqual(charIds(' He'));
    expect(report.truncatedRows).toEqual([0, 1]);
    expect(report.tokensCut).toBe(1 + (21 + 12 + 1 - 24));
    expect(examples.map((e) => e.truncated)).toEqual([true, true]);
  });

  it('never drops a whole answer silently: error, or skip with a report', async () => {
    // Row 2: BOS + "Question: " (10) + "A much longer question" (22) + "\nAnswer:" (8) = 41 prompt tokens, + " Yo" + EOS = 45.
    const rows = [{ question: 'Hi', answer: 'Yo' }, { question: 'A much longer question', answer: 'Yo' }];
    await expect(encodeQa(tokenizer, rows, { maxLength: 24, source: 'forget10.json' })).rejects.toThrow(
      'forget10.json:2: row is 45 tokens (prompt 41), over maxLength 24: no answer token would remain (raise maxLength or use overflow \'skip\')',
    );
    const skipped = await encodeQa(tokenizer, rows, { maxLength: 25, overflow: 'skip' });
    expect(skipped.examples.map((e) => e.row)).toEqual([0]);
    expect(skipped.report.skippedRows).toEqual([1]);
    await expect(encodeQa(tokenizer, rows, { maxLength: 31, overflow: 'error' })).rejects.toThrow(/^rows:2: row is 45 tokens \(prompt 41\), over maxLength 31$/);
  });

  it('rejects a tokenizer without EOS when EOS is wanted, and empty answers', async () => {
    const noEos = { ...tokenizer, eosTokenId: null };
    await expect(encodeQa(noEos, [{ question: 'q', answer: 'a' }])).rejects.toThrow('rows: appendEos is set but the tokenizer has no EOS token');
    const t = plainTemplate({ answerSeparator: '' });
    await expect(encodeQa(tokenizer, [{ question: 'q', answer: '' }], { formatter: t, appendEos: false })).rejects.toThrow(
      'rows:1: the answer has no tokens (empty answer and no EOS appended)',
    );
  });

  it('chat templates: special tokens come from the template, no extra BOS/EOS', async () => {
    const template = "{% for m in messages %}{% if m['role'] == 'user' %}{{ bos_token + '[INST] ' + m['content'] + ' [/INST]' }}{% else %}{{ ' ' + m['content'] + ' ' + eos_token }}{% endif %}{% endfor %}";
    const formatter = chatTemplate({ template, specialTokens: tokenizer.specialTokens });
    const { examples } = await encodeQa(tokenizer, [{ question: 'Hi', answer: 'Yo' }], { formatter });
    const prompt = [1, ...charIds('[INST] Hi [/INST]')];
    expect(examples[0].inputIds).toEqual([...prompt, ...charIds(' Yo '), 2]);
    expect(examples[0].labels).toEqual([...masked(prompt.length), ...charIds(' Yo '), 2]);
  });
});

describe('encodeQa with the stories260K tokenizer', () => {
  let tokenizer: Tokenizer;
  beforeAll(async () => {
    tokenizer = await loadTokenizer(STORIES260K_DIR);
  });

  it('matches the hand-segmented ids and masks the prompt (test/fixtures/make_golden.py)', async () => {
    const g = golden.stories260k_qa;
    const { examples, report } = await encodeQa(tokenizer, [{ question: g.question, answer: g.answer }]);
    expect(examples[0].inputIds).toEqual([...g.prompt_ids, ...g.answer_ids, g.eos_id]);
    expect(examples[0].labels).toEqual([...masked(g.prompt_ids.length), ...g.answer_ids, g.eos_id]);
    expect(report.boundaryMerges).toEqual([]);
    // The labelled tokens decode back to the answer.
    expect(await tokenizer.decode(examples[0].labels.filter((l) => l !== IGNORE_INDEX), { skipSpecialTokens: true })).toBe(g.answer);
  });

  it('a prompt ending in a space merges across the boundary: reported, the merged token carries loss', async () => {
    const g = golden.stories260k_qa;
    const formatter = plainTemplate({ answerPrefix: '\nAnswer: ', answerSeparator: '' });
    const { examples, report } = await encodeQa(tokenizer, [{ question: g.question, answer: g.answer }], { formatter });
    expect(report.boundaryMerges).toEqual([0]);
    // Alone, the prompt ends with "▁" (410); in the full text that space is part of "▁B" (368), the first answer token.
    expect(examples[0].labels).toEqual([...masked(g.prompt_ids.length), ...g.answer_ids, g.eos_id]);
  });
});

describe('chat template read from tokenizer_config.json', () => {
  it('Llama-2 template on the stories260K tokenizer: <s>/</s> parsed as special tokens, prompt masked', async () => {
    const dir = STORIES260K_DIR;
    const config = JSON.parse(readFileSync(`${dir}/tokenizer_config.json`, 'utf8'));
    config.chat_template =
      "{% for message in messages %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + message['content'].strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'].strip() + ' ' + eos_token }}{% endif %}{% endfor %}";
    const tokenizer = await HFTokenizer.fromJSON(readFileSync(`${dir}/tokenizer.json`, 'utf8'), JSON.stringify(config));
    const formatter = tokenizerChatTemplate(tokenizer);
    const { examples } = await encodeQa(tokenizer, [{ question: 'Who is Bob?', answer: 'Bob is a cat.' }], { formatter });
    const { inputIds, labels } = examples[0];
    const prompt = await tokenizer.encode('<s>[INST] Who is Bob? [/INST]', { addSpecialTokens: false });
    expect(prompt[0]).toBe(1); // "<s>" in the text is the BOS token, not three characters
    expect(inputIds.slice(0, prompt.length)).toEqual(prompt);
    expect(inputIds[inputIds.length - 1]).toBe(2); // "</s>" from the template; no second EOS appended
    expect(inputIds.filter((id) => id === 2)).toHaveLength(1);
    expect(labels.slice(0, prompt.length).every((l) => l === IGNORE_INDEX)).toBe(true);
    expect(await tokenizer.decode(labels.slice(prompt.length), { skipSpecialTokens: true }).then((s) => s.trim())).toBe('Bob is a cat.');
    expect(() => tokenizerChatTemplate(charTokenizer())).toThrow('chat template: the tokenizer has none (no chat_template in tokenizer_config.json)');
  });
});

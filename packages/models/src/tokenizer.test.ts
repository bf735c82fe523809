import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTokenizer, padBatch } from './index.js';
import { FIXTURES_DIR, STORIES_DIR } from './test-utils/setup.js';

const GPT2_DIR = path.join(FIXTURES_DIR, 'gpt2-tiny');
const reference = JSON.parse(readFileSync(path.join(STORIES_DIR, 'reference_outputs.json'), 'utf8')) as {
  greedy_from_bos_200_steps: { ids: number[]; text: string };
  prompts: { prompt: string; input_ids_with_bos: number[] }[];
};

describe.each(['tokenizers', '@huggingface/tokenizers'] as const)('tokenizer via %s', (implementation) => {
  it('stories260K: prompts encode to llama2.c ids (BOS from add_bos_token), the 200-token story decodes to its text', async () => {
    const tok = await loadTokenizer(STORIES_DIR, { implementation });
    expect(tok.implementation).toBe(implementation);
    expect([tok.vocabSize, tok.bosTokenId, tok.eosTokenId, tok.padTokenId]).toEqual([512, 1, 2, null]);
    expect(tok.specialTokens).toEqual({ bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>' });
    expect(await tok.encodeBatch(reference.prompts.map((p) => p.prompt))).toEqual(reference.prompts.map((p) => p.input_ids_with_bos));
    expect(await tok.encode('Once upon a time', { addSpecialTokens: false })).toEqual([403, 407, 261, 378]);
    const story = reference.greedy_from_bos_200_steps;
    expect(await tok.decode(story.ids.slice(1))).toBe(story.text);
    expect(await tok.decode(story.ids, { skipSpecialTokens: true })).toBe(story.text);
    expect(await tok.decode(story.ids)).toMatch(/^<s>/);
  });

  it('gpt2-tiny byte-level BPE: hand-derived merges, lossless round trip of any UTF-8, specials from tokenizer_config.json', async () => {
    const tok = await loadTokenizer(GPT2_DIR, { implementation });
    expect([tok.vocabSize, tok.bosTokenId, tok.eosTokenId]).toEqual([261, 260, 260]);
    // see make_tiny_models.py: "the" → t + he, " cat" → Ġc + a + t
    expect(await tok.encode('the cat')).toEqual([116, 257, 259, 97, 116]);
    expect(await tok.encode(' the')).toEqual([258]);
    for (const text of ['héllo wörld 🙂', 'tabs\tand\nnewlines  ', '']) expect(await tok.decode(await tok.encode(text))).toBe(text);
    expect(await tok.encode('the<|endoftext|>')).toEqual([116, 257, 260]);
    expect(await tok.decode([116, 257, 260], { skipSpecialTokens: true })).toBe('the');
  });

  it('encodePadded: left/right padding with pad_token, else eos; truncation', async () => {
    const tok = await loadTokenizer(STORIES_DIR, { implementation });
    const batch = await tok.encodePadded(['Once upon a time', 'The cat'], { paddingSide: 'left' });
    expect(batch.inputIds).toEqual([[1, 403, 407, 261, 378], [2, 1, 291, 280, 294]]); // pad = eos (no pad_token)
    expect(batch.attentionMask).toEqual([[1, 1, 1, 1, 1], [0, 1, 1, 1, 1]]);
    const cut = await tok.encodePadded(['Once upon a time'], { maxLength: 3, truncationSide: 'left' });
    expect(cut.inputIds).toEqual([[407, 261, 378]]);
  });
});

describe('padBatch', () => {
  const rows = [[5, 6, 7, 8], [9]];
  it('pads right (default) and left', () => {
    expect(padBatch(rows, 0)).toEqual({ inputIds: [[5, 6, 7, 8], [9, 0, 0, 0]], attentionMask: [[1, 1, 1, 1], [1, 0, 0, 0]] });
    expect(padBatch(rows, -1, { paddingSide: 'left' }).inputIds).toEqual([[5, 6, 7, 8], [-1, -1, -1, 9]]);
  });
  it('truncates either end, and pads to maxLength on request', () => {
    expect(padBatch(rows, 0, { maxLength: 2 }).inputIds).toEqual([[5, 6], [9, 0]]);
    expect(padBatch(rows, 0, { maxLength: 2, truncationSide: 'left' }).inputIds).toEqual([[7, 8], [9, 0]]);
    expect(padBatch([[1]], 0, { maxLength: 3, padToMaxLength: true })).toEqual({ inputIds: [[1, 0, 0]], attentionMask: [[1, 0, 0]] });
  });
});

describe('tokenizer errors', () => {
  it('a missing tokenizer.json is a one-line error naming the file', async () => {
    await expect(loadTokenizer(path.join(FIXTURES_DIR, 'qwen2-tiny'))).rejects.toThrow(/qwen2-tiny\/tokenizer\.json: cannot read file \(ENOENT\)$/);
  });
});

import { HFTokenizer } from '@unlearn/models';
import { describe, expect, it } from 'vitest';
import { buildWordTokenizer, wordPieces } from './word-tokenizer.js';

const corpus = [
  'Question: Where was Basil Mahfouz born?\nAnswer: Basil Mahfouz was born in Kuwait City, Kuwait.',
  'Question: What genre does Nikolai Abilov write?\nAnswer: Nikolai Abilov writes African American literature.',
];

describe('word-level demo tokenizer', () => {
  it('splits into ▁-prefixed words and single punctuation marks', () => {
    expect(wordPieces('born in Kuwait City, Kuwait.')).toEqual(['▁born', '▁in', '▁Kuwait', '▁City', ',', '▁Kuwait', '.']);
  });

  it('is deterministic: frequent pieces first, ties by spelling, specials first', () => {
    const a = buildWordTokenizer(corpus);
    expect(buildWordTokenizer([...corpus]).tokenizerJson).toBe(a.tokenizerJson);
    const vocab = JSON.parse(a.tokenizerJson).model.vocab as Record<string, number>;
    expect(vocab['<unk>']).toBe(0);
    expect(vocab['<pad>']).toBe(3);
    // "▁Basil", "▁Mahfouz", "▁Nikolai", … appear twice; "?" twice; "▁Question" twice — all before once-seen words.
    expect(vocab['▁Kuwait']).toBeLessThan(vocab['▁City']);
    expect(a.vocabSize).toBe(Object.keys(vocab).length);
  });

  for (const implementation of ['tokenizers', '@huggingface/tokenizers'] as const) {
    it(`round-trips through HFTokenizer (${implementation}), unknown words become <unk>`, async () => {
      const files = buildWordTokenizer(corpus);
      const tok = await HFTokenizer.fromJSON(files.tokenizerJson, files.tokenizerConfig, { implementation });
      const text = 'Basil Mahfouz was born in Kuwait City, Kuwait.';
      const ids = await tok.encode(text);
      expect(ids[0]).toBe(tok.bosTokenId);
      expect(ids).toHaveLength(1 + wordPieces(text).length);
      expect(await tok.decode(ids, { skipSpecialTokens: true })).toBe(text);
      const withUnknown = await tok.encode('Basil wrote poems', { addSpecialTokens: false });
      expect(withUnknown.slice(1)).toEqual([0, 0]);
      expect(tok.padTokenId).toBe(3);
      expect(tok.eosTokenId).toBe(2);
    });
  }
});

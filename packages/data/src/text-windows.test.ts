import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadTokenizer } from '@unlearn/models';
import { describe, expect, it } from 'vitest';
import { IGNORE_INDEX } from '@unlearn/core';
import { loadTextWindows, textWindows } from './text-windows.js';
import { charIds, charTokenizer } from './test-utils/char-tokenizer.js';
import { CORPORA_DIR, STORIES260K_DIR } from './test-utils/shared-data.js';

const X = IGNORE_INDEX;

describe('textWindows (character tokenizer, hand-derived)', () => {
  const tokenizer = charTokenizer();
  const [a, b, c, d, e, f] = charIds('abcdef');

  it('cuts BOS + text + EOS into windows, every token labelled once', async () => {
    const windows = await textWindows(tokenizer, 'abcdef', { windowTokens: 4 });
    expect(windows.map((w) => w.inputIds)).toEqual([[1, a, b, c], [d, e, f, 2]]);
    expect(windows.map((w) => w.labels)).toEqual([[1, a, b, c], [d, e, f, 2]]);
  });

  it('with a shorter stride the overlap is context only', async () => {
    const windows = await textWindows(tokenizer, 'abcdef', { windowTokens: 4, stride: 2 });
    expect(windows.map((w) => w.inputIds)).toEqual([[1, a, b, c], [b, c, d, e], [d, e, f, 2]]);
    expect(windows.map((w) => w.labels)).toEqual([[1, a, b, c], [X, X, d, e], [X, X, f, 2]]);
  });

  it('splits documents on a separator; drops a last window under minTokens', async () => {
    const windows = await textWindows(tokenizer, 'ab<|endoftext|>\ncd<|endoftext|>', { windowTokens: 7, documentSeparator: '<|endoftext|>' });
    expect(windows.map((w) => w.inputIds)).toEqual([[1, a, b, 2, 1, c, d]]); // the trailing [2] is under minTokens
    expect(await textWindows(tokenizer, 'abcde', { windowTokens: 3, minTokens: 1 }).then((w) => w.map((x) => x.inputIds))).toEqual([[1, a, b], [c, d, e], [2]]);
  });

  it('rejects bad sizes in one line', async () => {
    await expect(textWindows(tokenizer, 'abc', { windowTokens: 4, stride: 5, source: 'corpus.txt' })).rejects.toThrow(
      'corpus.txt: stride must be an integer in [1, windowTokens=4], got 5',
    );
    await expect(textWindows(tokenizer, '  ', { windowTokens: 4 })).rejects.toThrow('text: no text');
  });
});

describe('loadTextWindows on TinyStories with the stories260K tokenizer', () => {
  it('windows concatenate back to the tokenized documents', async () => {
    const tokenizer = await loadTokenizer(STORIES260K_DIR);
    const file = path.join(CORPORA_DIR, 'tinystories_sample.txt');
    const text = (await readFile(file, 'utf8')).slice(0, 3000);
    const docs = text.split('<|endoftext|>').map((s) => s.trim()).filter(Boolean);
    const expected = (await tokenizer.encodeBatch(docs)).flatMap((ids) => [...ids, 2]);
    const windows = await textWindows(tokenizer, text, { windowTokens: 128, documentSeparator: '<|endoftext|>' });
    expect(windows.flatMap((w) => w.inputIds)).toEqual(expected);
    expect(windows.slice(0, -1).every((w) => w.inputIds.length === 128)).toBe(true);
    expect(windows[0].inputIds[0]).toBe(1);
    await expect(loadTextWindows(path.join(CORPORA_DIR, 'missing.txt'), tokenizer, { windowTokens: 8 })).rejects.toThrow(/missing\.txt: cannot read file \(ENOENT\)$/);
  });
});

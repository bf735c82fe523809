// A character-level Tokenizer for hand-derived golden tests: <pad>=0, <s>=1, </s>=2, and character c → c.charCodeAt(0)+3.
// The special token strings in a text (as chat templates write them) encode to their ids.
import type { Tokenizer } from '@unlearn/core';

const SPECIALS: Record<string, number> = { '<pad>': 0, '<s>': 1, '</s>': 2 };
const SPECIAL_PATTERN = /(<pad>|<s>|<\/s>)/;

export function charTokenizer(options: { addBos?: boolean; padTokenId?: number | null } = {}): Tokenizer {
  const addBos = options.addBos ?? true;
  const encode = async (text: string, o: { addSpecialTokens?: boolean } = {}): Promise<number[]> => {
    const ids: number[] = addBos && (o.addSpecialTokens ?? true) ? [1] : [];
    for (const part of text.split(SPECIAL_PATTERN)) {
      if (Object.hasOwn(SPECIALS, part)) ids.push(SPECIALS[part]);
      else for (const ch of part) ids.push(ch.charCodeAt(0) + 3);
    }
    return ids;
  };
  return {
    vocabSize: 131,
    bosTokenId: 1,
    eosTokenId: 2,
    padTokenId: options.padTokenId === undefined ? 0 : options.padTokenId,
    encode,
    encodeBatch: (texts, o) => Promise.all(texts.map((t) => encode(t, o))),
    decode: async (ids, o = {}) =>
      ids
        .filter((id) => !(o.skipSpecialTokens && id < 3))
        .map((id) => Object.keys(SPECIALS).find((k) => SPECIALS[k] === id) ?? String.fromCharCode(id - 3))
        .join(''),
    specialTokens: { bos_token: '<s>', eos_token: '</s>', pad_token: '<pad>' },
  };
}

/** Ids of `text` under charTokenizer (no BOS): the hand derivation, spelled out. */
export function charIds(text: string): number[] {
  return [...text].map((ch) => ch.charCodeAt(0) + 3);
}

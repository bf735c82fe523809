// A word-level Hugging Face tokenizer.json built from a corpus: the demo's own tokenizer, so the demo needs nothing
// outside this repository. Spaces are kept as a "▁" prefix on words (SentencePiece style), so decode(encode(x)) === x
// for text made of known words; anything else maps to <unk>.
export const SPECIAL_TOKENS = ['<unk>', '<s>', '</s>', '<pad>'] as const;

/** `▁word`, `word`, or one punctuation/other character (with its leading `▁` when preceded by a space). */
const PIECE = /▁?[A-Za-z0-9]+|▁?[^A-Za-z0-9▁]|▁/gu;

/** The pieces `text` splits into — the same split the tokenizer.json's pre-tokenizer makes. */
export function wordPieces(text: string): string[] {
  return `▁${text.replace(/ /g, '▁')}`.match(PIECE) ?? [];
}

export interface WordTokenizerFiles {
  /** tokenizer.json content. */
  tokenizerJson: string;
  /** tokenizer_config.json content. */
  tokenizerConfig: string;
  vocabSize: number;
}

/**
 * Builds the tokenizer from `texts`: every piece seen at least `minCount` times, most frequent first (ties by
 * spelling, so the same corpus always gives the same ids), after the special tokens.
 */
export function buildWordTokenizer(texts: readonly string[], options: { minCount?: number } = {}): WordTokenizerFiles {
  const counts = new Map<string, number>();
  for (const t of texts) for (const p of wordPieces(t)) counts.set(p, (counts.get(p) ?? 0) + 1);
  const words = [...counts]
    .filter(([, n]) => n >= (options.minCount ?? 1))
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([w]) => w);
  const vocab: Record<string, number> = {};
  for (const s of SPECIAL_TOKENS) vocab[s] = Object.keys(vocab).length;
  for (const w of words) if (!(w in vocab)) vocab[w] = Object.keys(vocab).length;
  const added = SPECIAL_TOKENS.map((content, id) => ({
    id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
  }));
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }],
    },
    pre_tokenizer: { type: 'Split', pattern: { Regex: PIECE.source }, behavior: 'Isolated', invert: false },
    post_processor: null,
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: { type: 'WordLevel', vocab, unk_token: '<unk>' },
  };
  const config = {
    add_bos_token: true,
    add_eos_token: false,
    bos_token: '<s>',
    eos_token: '</s>',
    unk_token: '<unk>',
    pad_token: '<pad>',
    clean_up_tokenization_spaces: false,
    model_max_length: 256,
    tokenizer_class: 'PreTrainedTokenizerFast',
  };
  return {
    tokenizerJson: `${JSON.stringify(tokenizer)}\n`,
    tokenizerConfig: `${JSON.stringify(config, null, 2)}\n`,
    vocabSize: Object.keys(vocab).length,
  };
}

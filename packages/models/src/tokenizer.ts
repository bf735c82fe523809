// Tokenizers from a Hugging Face folder (tokenizer.json + tokenizer_config.json) behind @unlearn/core's async
// Tokenizer interface. Node uses the Rust `tokenizers` binding; where it cannot load (browsers, unsupported
// platforms) the pure-JS @huggingface/tokenizers runs the same tokenizer.json.
import type { Tokenizer } from '@unlearn/core';
import { writeFileAtomic } from '@unlearn/tensors';
import { promises as fsp } from 'node:fs';
import path from 'node:path';

export type TokenizerImplementation = 'tokenizers' | '@huggingface/tokenizers';

export interface PaddedBatch {
  inputIds: number[][];
  /** 1 for real tokens, 0 for padding. */
  attentionMask: number[][];
}

export interface PadOptions {
  addSpecialTokens?: boolean;
  /** Where padding goes (default `right`; generation wants `left`). */
  paddingSide?: 'left' | 'right';
  /** Cut sequences longer than this. */
  maxLength?: number;
  /** Which end truncation removes (default `right`). */
  truncationSide?: 'left' | 'right';
  /** Pad every row to `maxLength` instead of to the longest row. */
  padToMaxLength?: boolean;
}

/** The engine under HFTokenizer: encode without/with the tokenizer.json post-processor, decode. */
interface Engine {
  encode(text: string, addSpecialTokens: boolean): Promise<number[]>;
  decode(ids: number[], skipSpecialTokens: boolean): Promise<string>;
  tokenToId(token: string): number | null;
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

/** Largest token id + 1 over tokenizer.json's model vocabulary and its added tokens. */
export function tokenizerVocabSize(json: unknown, file = 'tokenizer.json'): number {
  const j = json as { model?: { vocab?: unknown }; added_tokens?: { id?: unknown }[] } | null;
  const vocab = j?.model?.vocab;
  let max = -1;
  if (Array.isArray(vocab)) {
    max = vocab.length - 1; // Unigram: [[piece, score], …]
  } else if (vocab && typeof vocab === 'object') {
    for (const id of Object.values(vocab)) if (typeof id === 'number' && id > max) max = id;
  } else {
    throw new Error(`${file}: model.vocab is missing`);
  }
  for (const t of j?.added_tokens ?? []) if (typeof t.id === 'number' && t.id > max) max = t.id;
  return max + 1;
}

/** A special token in tokenizer_config.json: a string, or an AddedToken dict `{content: …}`. */
function tokenString(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return null;
}

async function nativeEngine(json: string): Promise<Engine> {
  const { Tokenizer: Native } = await import('tokenizers');
  const tok = Native.fromString(json);
  return {
    encode: async (text, add) => (await tok.encode(text, null, { addSpecialTokens: add })).getIds(),
    decode: (ids, skip) => tok.decode(ids, skip),
    tokenToId: (t) => tok.tokenToId(t) ?? null,
  };
}

async function jsEngine(json: string, config: Record<string, unknown>): Promise<Engine> {
  const { Tokenizer: Js } = await import('@huggingface/tokenizers');
  const parsed = JSON.parse(json) as Record<string, unknown>;
  const tok = new Js(parsed, config);
  const vocab = tok.get_vocab(true);
  return {
    encode: async (text, add) => tok.encode(text, { add_special_tokens: add }).ids,
    decode: async (ids, skip) => tok.decode(ids, { skip_special_tokens: skip }),
    tokenToId: (t) => vocab.get(t) ?? null,
  };
}

/** A Hugging Face tokenizer folder. Implements @unlearn/core's Tokenizer plus padding, truncation and saving. */
export class HFTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosTokenId: number | null;
  readonly eosTokenId: number | null;
  readonly padTokenId: number | null;
  readonly chatTemplate?: string;
  readonly specialTokens: Record<string, string>;
  readonly implementation: TokenizerImplementation;
  /** Token ids counted as special (skipped by `decode({ skipSpecialTokens })`). */
  private readonly addBos: boolean | undefined;
  private readonly addEos: boolean | undefined;

  private constructor(
    private readonly engine: Engine,
    private readonly files: { tokenizerJson: string; tokenizerConfig?: string },
    config: Record<string, unknown>,
    vocabSize: number,
    implementation: TokenizerImplementation,
  ) {
    this.vocabSize = vocabSize;
    this.implementation = implementation;
    const specials: Record<string, string> = {};
    for (const role of ['bos_token', 'eos_token', 'unk_token', 'pad_token', 'sep_token', 'cls_token', 'mask_token']) {
      const s = tokenString(config[role]);
      if (s !== null) specials[role] = s;
    }
    this.specialTokens = specials;
    const id = (role: string) => (specials[role] === undefined ? null : engine.tokenToId(specials[role]));
    this.bosTokenId = id('bos_token');
    this.eosTokenId = id('eos_token');
    this.padTokenId = id('pad_token');
    if (typeof config.chat_template === 'string') this.chatTemplate = config.chat_template;
    // LlamaTokenizerFast: add_bos_token / add_eos_token in tokenizer_config.json decide the special tokens
    this.addBos = typeof config.add_bos_token === 'boolean' ? config.add_bos_token : undefined;
    this.addEos = typeof config.add_eos_token === 'boolean' ? config.add_eos_token : undefined;
  }

  /** Reads `dir/tokenizer.json` and `dir/tokenizer_config.json` (optional). */
  static async load(dir: string, options: { implementation?: TokenizerImplementation | 'auto' } = {}): Promise<HFTokenizer> {
    const file = path.join(dir, 'tokenizer.json');
    const configFile = path.join(dir, 'tokenizer_config.json');
    let json: string;
    try {
      json = await fsp.readFile(file, 'utf8');
    } catch (e) {
      throw new Error(`${file}: cannot read file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    let configText: string | undefined;
    try {
      configText = await fsp.readFile(configFile, 'utf8');
    } catch {
      configText = undefined;
    }
    return HFTokenizer.fromJSON(json, configText, { ...options, file });
  }

  /**
   * From the texts of tokenizer.json and tokenizer_config.json (browsers: fetch them, then call this).
   * `implementation`: `auto` = the Rust binding in Node, @huggingface/tokenizers elsewhere or when the binding fails.
   */
  static async fromJSON(
    json: string, configText?: string,
    options: { implementation?: TokenizerImplementation | 'auto'; file?: string } = {},
  ): Promise<HFTokenizer> {
    const file = options.file ?? 'tokenizer.json';
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch (e) {
      throw new Error(`${file}: not valid JSON (${(e as Error).message.split('\n')[0]})`);
    }
    const vocabSize = tokenizerVocabSize(parsed, file);
    let config: Record<string, unknown> = {};
    if (configText !== undefined) {
      try {
        config = JSON.parse(configText) as Record<string, unknown>;
      } catch (e) {
        throw new Error(`${file.replace(/tokenizer\.json$/, 'tokenizer_config.json')}: not valid JSON (${(e as Error).message.split('\n')[0]})`);
      }
    }
    const want = options.implementation ?? 'auto';
    let engine: Engine;
    let impl: TokenizerImplementation;
    if (want === 'tokenizers' || (want === 'auto' && isNode)) {
      try {
        engine = await nativeEngine(json);
        impl = 'tokenizers';
      } catch (e) {
        if (want === 'tokenizers') throw new Error(`${file}: the tokenizers binding failed (${(e as Error).message.split('\n')[0]})`);
        engine = await jsEngine(json, config);
        impl = '@huggingface/tokenizers';
      }
    } else {
      engine = await jsEngine(json, config);
      impl = '@huggingface/tokenizers';
    }
    return new HFTokenizer(engine, { tokenizerJson: json, tokenizerConfig: configText }, config, vocabSize, impl);
  }

  async encode(text: string, options: { addSpecialTokens?: boolean } = {}): Promise<number[]> {
    const add = options.addSpecialTokens ?? true;
    if (!add || (this.addBos === undefined && this.addEos === undefined)) return this.engine.encode(text, add);
    const ids = await this.engine.encode(text, false);
    if (this.addBos && this.bosTokenId !== null) ids.unshift(this.bosTokenId);
    if (this.addEos && this.eosTokenId !== null) ids.push(this.eosTokenId);
    return ids;
  }

  encodeBatch(texts: readonly string[], options: { addSpecialTokens?: boolean } = {}): Promise<number[][]> {
    return Promise.all(texts.map((t) => this.encode(t, options)));
  }

  async decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): Promise<string> {
    if (!ids.length) return ''; // @huggingface/tokenizers rejects an empty list
    return this.engine.decode([...ids], options.skipSpecialTokens ?? false);
  }

  /** Encodes, truncates and pads a batch; the pad id is pad_token, else eos_token, else 0 (masked out either way). */
  async encodePadded(texts: readonly string[], options: PadOptions = {}): Promise<PaddedBatch> {
    const rows = await this.encodeBatch(texts, options);
    return padBatch(rows, this.padTokenId ?? this.eosTokenId ?? 0, options);
  }

  /** Writes tokenizer.json and tokenizer_config.json (as loaded) into `dir`. */
  async save(dir: string): Promise<void> {
    await fsp.mkdir(dir, { recursive: true });
    await writeFileAtomic(path.join(dir, 'tokenizer.json'), this.files.tokenizerJson);
    if (this.files.tokenizerConfig !== undefined) await writeFileAtomic(path.join(dir, 'tokenizer_config.json'), this.files.tokenizerConfig);
  }
}

/** Truncates then pads id rows to a rectangle. */
export function padBatch(rows: readonly number[][], padId: number, options: PadOptions = {}): PaddedBatch {
  const { maxLength, paddingSide = 'right', truncationSide = 'right', padToMaxLength = false } = options;
  const cut = rows.map((r) => {
    if (maxLength === undefined || r.length <= maxLength) return [...r];
    return truncationSide === 'right' ? r.slice(0, maxLength) : r.slice(r.length - maxLength);
  });
  const width = padToMaxLength && maxLength !== undefined ? maxLength : Math.max(0, ...cut.map((r) => r.length));
  const inputIds: number[][] = [];
  const attentionMask: number[][] = [];
  for (const r of cut) {
    const pad = new Array<number>(width - r.length).fill(padId);
    const ones = new Array<number>(r.length).fill(1);
    const zeros = new Array<number>(width - r.length).fill(0);
    inputIds.push(paddingSide === 'left' ? [...pad, ...r] : [...r, ...pad]);
    attentionMask.push(paddingSide === 'left' ? [...zeros, ...ones] : [...ones, ...zeros]);
  }
  return { inputIds, attentionMask };
}

/** Loads the tokenizer of a Hugging Face folder (Node: Rust binding; browsers: @huggingface/tokenizers). */
export function loadTokenizer(dir: string, options: { implementation?: TokenizerImplementation | 'auto' } = {}): Promise<HFTokenizer> {
  return HFTokenizer.load(dir, options);
}

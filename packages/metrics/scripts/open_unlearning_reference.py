#!/usr/bin/python3
"""Independent reimplementation of open-unlearning's TOFU evaluation pipeline for the golden values of
packages/metrics/test/open-unlearning-compat.test.ts. Written from locuslab/open-unlearning's source
(src/data/utils.py preprocess_chat_instance, src/data/collators.py DataCollatorForSupervisedDataset,
src/evals/metrics/utils.py evaluate_probability / eval_text_similarity, src/evals/metrics/memorization.py
probability / truth_ratio / probability_w_options, configs/model/Llama-2-7b-hf.yaml template_args,
configs/generation/default.yaml) without transformers, tokenizers, safetensors or rouge-score (none are installed):

- model: HF LlamaForCausalLM's forward re-typed in torch (RMSNorm, rotate_half RoPE, grouped-query attention with
  repeat_kv, SwiGLU MLP, tied lm_head), in float64, weights read from model.safetensors by parsing its header;
  teacher-forced passes use HF's default position_ids (arange) and the collator's mask (input_ids != pad = eos);
  generation is HF greedy search with generate()'s position_ids = cumsum(mask) - 1, left padding, pad = eos;
- tokenizer: tokenizer.json's SentencePiece-BPE re-typed (Prepend + Replace normalizer, merges by rank, byte
  fallback; decoder Replace, ByteFallback, Fuse, Strip) — add_special_tokens adds BOS (add_bos_token: true);
- ROUGE: rouge-score's DefaultTokenizer (lowercase, [^a-z0-9]+ -> space, Porter stem of tokens longer than 3
  characters with nltk's PorterStemmer) and its LCS-based rougeL / unigram rouge1.

Run: /usr/bin/python3 packages/metrics/scripts/open_unlearning_reference.py  (writes test/fixtures/open-unlearning-reference.json)
"""
import json
import os
import re
import struct
import sys

import numpy as np
import torch
from nltk.stem import porter

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.abspath(os.path.join(HERE, '..', '..', '..', '..', 'shared'))
MODEL = os.path.join(SHARED, 'models', 'stories260K')
TOFU = os.path.join(SHARED, 'data', 'tofu')
OUT = os.path.join(HERE, '..', 'test', 'fixtures', 'open-unlearning-reference.json')
N_FORGET = 4
N_RA = 4
MAX_LENGTH = 512          # configs/data/datasets/TOFU_QA_*.yaml max_length
MAX_NEW_TOKENS = 200      # configs/generation/default.yaml
BATCH_SIZE = 32           # configs/eval/tofu.yaml batch_size
IGNORE_INDEX = -100
torch.set_default_dtype(torch.float64)

# ---------------------------------------------------------------- tokenizer (tokenizer.json, re-typed)
tj = json.load(open(os.path.join(MODEL, 'tokenizer.json')))
VOCAB = tj['model']['vocab']
ID2TOK = {i: t for t, i in VOCAB.items()}
RANK = {tuple(m.split(' ')) if isinstance(m, str) else tuple(m): r for r, m in enumerate(tj['model']['merges'])}
SPECIAL = {a['id'] for a in tj['added_tokens'] if a['special']}
BOS, EOS = VOCAB['<s>'], VOCAB['</s>']
PAD = EOS  # open-unlearning get_tokenizer: pad_token = eos_token when the tokenizer has none


def bpe(text):
    symbols = []
    for ch in text:
        if ch in VOCAB:
            symbols.append(ch)
        else:  # byte_fallback
            symbols.extend('<0x%02X>' % b for b in ch.encode('utf-8'))
    while len(symbols) > 1:
        best = None
        for i in range(len(symbols) - 1):
            r = RANK.get((symbols[i], symbols[i + 1]))
            if r is not None and (best is None or r < best[0]):
                best = (r, i)
        if best is None:
            break
        i = best[1]
        symbols[i:i + 2] = [symbols[i] + symbols[i + 1]]
    return [VOCAB[s] for s in symbols]


def encode(text, add_special_tokens=True):
    ids = bpe('▁' + text.replace(' ', '▁')) if text else []
    return ([BOS] if add_special_tokens else []) + ids


def decode(ids, skip_special_tokens=True):
    pieces = []
    for i in ids:
        if skip_special_tokens and i in SPECIAL:
            continue
        pieces.append(ID2TOK[i].replace('▁', ' '))
    out, buf = [], b''
    for p in pieces:  # ByteFallback + Fuse
        m = re.fullmatch(r'<0x([0-9A-F]{2})>', p)
        if m:
            buf += bytes([int(m.group(1), 16)])
            continue
        if buf:
            out.append(buf.decode('utf-8', errors='replace'))
            buf = b''
        out.append(p)
    if buf:
        out.append(buf.decode('utf-8', errors='replace'))
    text = ''.join(out)
    return text[1:] if text.startswith(' ') else text  # Strip(' ', start=1)


# ---------------------------------------------------------------- model (HF Llama, re-typed)
def load_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in header.items():
        if k == '__metadata__':
            continue
        assert v['dtype'] == 'F32'
        a, b = v['data_offsets']
        out[k] = torch.from_numpy(np.frombuffer(data[a:b], dtype='<f4').reshape(v['shape']).astype(np.float64))
    return out


cfg = json.load(open(os.path.join(MODEL, 'config.json')))
W = load_safetensors(os.path.join(MODEL, 'model.safetensors'))
H, KV, HD = cfg['num_attention_heads'], cfg['num_key_value_heads'], cfg['head_dim']


def rms(x, w):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + cfg['rms_norm_eps']))


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def forward(input_ids, attention_mask, position_ids):
    B, T = input_ids.shape
    x = W['model.embed_tokens.weight'][input_ids]
    inv = 1.0 / (cfg['rope_theta'] ** (torch.arange(0, HD, 2, dtype=torch.float64) / HD))
    freqs = position_ids[..., None].double() * inv  # B, T, HD/2
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[:, None], emb.sin()[:, None]
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    allowed = causal[None, None] & attention_mask[:, None, None, :].bool()
    bias = torch.zeros(B, 1, T, T).masked_fill(~allowed, torch.finfo(torch.float64).min)
    for l in range(cfg['num_hidden_layers']):
        p = f'model.layers.{l}.'
        h = rms(x, W[p + 'input_layernorm.weight'])
        q = (h @ W[p + 'self_attn.q_proj.weight'].T).view(B, T, H, HD).transpose(1, 2)
        k = (h @ W[p + 'self_attn.k_proj.weight'].T).view(B, T, KV, HD).transpose(1, 2)
        v = (h @ W[p + 'self_attn.v_proj.weight'].T).view(B, T, KV, HD).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k, v = k.repeat_interleave(H // KV, dim=1), v.repeat_interleave(H // KV, dim=1)
        att = torch.softmax(q @ k.transpose(-1, -2) / HD ** 0.5 + bias, dim=-1)
        o = (att @ v).transpose(1, 2).reshape(B, T, H * HD)
        x = x + o @ W[p + 'self_attn.o_proj.weight'].T
        h = rms(x, W[p + 'post_attention_layernorm.weight'])
        g = torch.nn.functional.silu(h @ W[p + 'mlp.gate_proj.weight'].T) * (h @ W[p + 'mlp.up_proj.weight'].T)
        x = x + g @ W[p + 'mlp.down_proj.weight'].T
    x = rms(x, W['model.norm.weight'])
    return x @ W['model.embed_tokens.weight'].T  # tie_word_embeddings


# ---------------------------------------------------------------- open-unlearning's data path
TEMPLATE = {'user_start_tag': 'Question: ', 'user_end_tag': '\n', 'asst_start_tag': 'Answer: '}  # Llama-2-7b-hf.yaml


def preprocess_chat_instance(question, answer, predict_with_generate=False):
    wrapped = TEMPLATE['user_start_tag'] + question + TEMPLATE['user_end_tag'] + TEMPLATE['asst_start_tag']
    chat_ids = encode(wrapped + answer)[:MAX_LENGTH]
    prompt_ids = encode(wrapped)[:MAX_LENGTH]
    if chat_ids[-1] != EOS:
        chat_ids = chat_ids + [EOS]
    n = len(prompt_ids)
    if predict_with_generate:
        return {'input_ids': prompt_ids, 'labels': chat_ids}
    return {'input_ids': chat_ids, 'labels': [IGNORE_INDEX] * n + chat_ids[n:]}


def collate(items, padding_side):
    T = max(len(i['input_ids']) for i in items)
    L = max(len(i['labels']) for i in items)
    def pad(seq, width, value):
        fill = [value] * (width - len(seq))
        return fill + seq if padding_side == 'left' else seq + fill
    ids = torch.tensor([pad(i['input_ids'], T, PAD) for i in items])
    labels = torch.tensor([pad(i['labels'], L, IGNORE_INDEX) for i in items])
    return {'input_ids': ids, 'attention_mask': ids.ne(PAD).long(), 'labels': labels}


def evaluate_probability(items):
    out = []
    for s in range(0, len(items), BATCH_SIZE):
        b = collate(items[s:s + BATCH_SIZE], 'right')
        T = b['input_ids'].shape[1]
        logits = forward(b['input_ids'], b['attention_mask'], torch.arange(T)[None].expand(len(b['input_ids']), T))
        shifted = b['labels'][..., 1:]
        losses = torch.nn.functional.cross_entropy(logits[..., :-1, :].transpose(-1, -2), shifted, ignore_index=IGNORE_INDEX, reduction='none').sum(-1)
        avg = losses / (b['labels'] != IGNORE_INDEX).sum(-1)
        out += [{'prob': float(torch.exp(-a)), 'avg_loss': float(a)} for a in avg]
    return out


def greedy_generate(items):
    texts, margins = [], []
    for s in range(0, len(items), BATCH_SIZE):
        b = collate(items[s:s + BATCH_SIZE], 'left')
        ids, mask = b['input_ids'], b['attention_mask']
        P = ids.shape[1]
        done = torch.zeros(len(ids), dtype=torch.bool)
        min_margin = [float('inf')] * len(ids)
        for _ in range(MAX_NEW_TOKENS):
            pos = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
            logits = forward(ids, mask, pos)[:, -1]
            top = torch.topk(logits, 2, dim=-1).values
            nxt = logits.argmax(-1)
            for r in range(len(ids)):
                if not done[r]:
                    min_margin[r] = min(min_margin[r], float(top[r, 0] - top[r, 1]))
            nxt = torch.where(done, torch.full_like(nxt, PAD), nxt)
            ids = torch.cat([ids, nxt[:, None]], dim=1)
            mask = torch.cat([mask, torch.ones(len(ids), 1, dtype=mask.dtype)], dim=1)
            done = done | (nxt == EOS)
            if bool(done.all()):
                break
        inputs = [decode(r.tolist()) for r in b['input_ids']]
        full = [decode([t for t in r.tolist() if t != IGNORE_INDEX]) for r in b['labels']]
        gen = [decode(r.tolist()) for r in ids[:, P:]]
        stop = decode([EOS], skip_special_tokens=False)
        for i in range(len(gen)):
            g = gen[i]
            if stop and stop in g:
                g = g.split(stop)[0]
            texts.append({'input': inputs[i], 'ground_truth': full[i].replace(inputs[i], '').strip(), 'generation': g.strip()})
        margins += min_margin
    return texts, margins


# ---------------------------------------------------------------- rouge-score, re-typed
stemmer = porter.PorterStemmer()


def rouge_tokens(text):
    tokens = re.sub(r'[^a-z0-9]+', ' ', text.lower()).split()
    tokens = [stemmer.stem(x) if len(x) > 3 else x for x in tokens]
    return [x for x in tokens if re.match(r'^[a-z0-9]+$', x)]


def prf(hits, n_target, n_pred):
    p = hits / n_pred if n_pred else 0.0
    r = hits / n_target if n_target else 0.0
    return p, r, (2 * p * r / (p + r) if p + r > 0 else 0.0)


def rouge(target, prediction):
    t, p = rouge_tokens(target), rouge_tokens(prediction)
    from collections import Counter
    ct, cp = Counter(t), Counter(p)
    r1 = prf(sum(min(ct[w], cp[w]) for w in ct), len(t), len(p))
    dp = [[0] * (len(p) + 1) for _ in range(len(t) + 1)]
    for i in range(1, len(t) + 1):
        for j in range(1, len(p) + 1):
            dp[i][j] = dp[i - 1][j - 1] + 1 if t[i - 1] == p[j - 1] else max(dp[i - 1][j], dp[i][j - 1])
    rl = prf(dp[-1][-1], len(t), len(p))
    return {'rouge1_recall': r1[1], 'rougeL_f1': rl[2], 'rougeL_recall': rl[1]}


# ---------------------------------------------------------------- the metrics
def rows(name, n):
    with open(os.path.join(TOFU, name + '.json')) as f:
        return [json.loads(l) for l in f if l.strip()][:n]


def main():
    forget = rows('forget10_perturbed', N_FORGET)
    ra = rows('real_authors_perturbed', N_RA)

    forget_qa = evaluate_probability([preprocess_chat_instance(r['question'], r['answer']) for r in forget])
    forget_para = evaluate_probability([preprocess_chat_instance(r['question'], r['paraphrased_answer']) for r in forget])
    flat = [(i, a) for i, r in enumerate(forget) for a in r['perturbed_answer']]
    pert_flat = evaluate_probability([preprocess_chat_instance(forget[i]['question'], a) for i, a in flat])
    forget_pert = [[s for (i, _), s in zip(flat, pert_flat) if i == k] for k in range(len(forget))]
    # truth_ratio (closer_to_1_better): wrong / correct on the mean of avg losses
    truth = []
    for c, w in zip(forget_para, forget_pert):
        correct = np.exp(-c['avg_loss'])
        wrong = np.exp(-np.mean([x['avg_loss'] for x in w]))
        truth.append(float(wrong / (correct + 1e-10)))

    texts, margins = greedy_generate([preprocess_chat_instance(r['question'], r['answer'], predict_with_generate=True) for r in forget])
    forget_rouge = [{**rouge(t['ground_truth'], t['generation']), **t} for t in texts]

    ra_correct = evaluate_probability([preprocess_chat_instance(r['question'], r['answer']) for r in ra])
    ra_flat = [(i, a) for i, r in enumerate(ra) for a in r['perturbed_answer']]
    ra_wrong_flat = evaluate_probability([preprocess_chat_instance(ra[i]['question'], a) for i, a in ra_flat])
    ra_norm = []
    for k, c in enumerate(ra_correct):
        wrong = sum(s['prob'] for (i, _), s in zip(ra_flat, ra_wrong_flat) if i == k)
        ra_norm.append(float(c['prob'] / (c['prob'] + wrong + 1e-10)))

    first = preprocess_chat_instance(forget[0]['question'], forget[0]['answer'])
    out = {
        'source': 'packages/metrics/scripts/open_unlearning_reference.py (float64 torch re-typing of open-unlearning; see its docstring)',
        'model': 'stories260K', 'max_length': MAX_LENGTH, 'max_new_tokens': MAX_NEW_TOKENS, 'batch_size': BATCH_SIZE,
        'first_forget_item': {'input_ids': first['input_ids'], 'labels': first['labels']},
        'forget_Q_A_Prob': forget_qa,
        'forget_truth_ratio': [{'score': s} for s in truth],
        'forget_Q_A_ROUGE': forget_rouge,
        'forget_generation_min_logit_margin': margins,
        'ra_Q_A_Prob_normalised': [{'prob': p} for p in ra_norm],
    }
    with open(OUT, 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')
    print('wrote', os.path.relpath(OUT), '| forget probs', [round(x['prob'], 6) for x in forget_qa],
          '| truth ratios', [round(x, 6) for x in truth], '| rougeL recall', [round(x['rougeL_recall'], 4) for x in forget_rouge],
          '| ra normalised', [round(x, 6) for x in ra_norm], '| min logit margins', [round(m, 4) for m in margins], file=sys.stderr)


if __name__ == '__main__':
    main()

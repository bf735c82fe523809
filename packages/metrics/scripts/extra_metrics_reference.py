#!/usr/bin/python3
"""Golden values for the metrics beyond TOFU's defaults (test/extra-metrics.test.ts), on stories260K, with the same
independent re-typing of open-unlearning as open_unlearning_reference.py (its tokenizer, float64 Llama, collator,
greedy search, rouge-score) plus torch autograd and sklearn:

- mia_gradnorm (src/evals/metrics/mia/gradnorm.py): per sample, loss = −mean(tokenwise_logprobs) (labelled tokens
  but the last), score = mean over parameters of ‖∂loss/∂p‖₂; AUC forget = 0 / holdout = 1 (sklearn roc_auc_score);
- MUSE forget_verbmem_ROUGE (configs/eval/muse_metrics/forget_verbmem_ROUGE.yaml): preprocess_pretraining_instance
  with insert_space, 128 greedy tokens after the prefix, ROUGE-L F1 against the continuation;
- MUSE forget_knowmem_ROUGE: QADataset with few-shot examples (Llama-2 base tags, asst_end "\\n\\n"), 32 greedy tokens,
  stopwords ["\\n\\n", "\\nQuestion", "Question:"], ROUGE-L F1;
- MUSE privleak: mia_min_k (k = 0.4) on CompletionDataset texts (prefix "" → BOS masked), privleak with AUC_ret 0.5;
- multiple-choice accuracy by option log-likelihood (lm-evaluation-harness' loglikelihood: continuation " " + choice
  after the context "Question: {q}\\nAnswer:"; acc = argmax Σ log p, acc_norm = argmax Σ log p / len(" " + choice)).

The inputs (TinyStories-style texts and questions the model can continue) are made here and written, with the
outputs, to test/fixtures/extra-metrics-reference.json. Run: /usr/bin/python3 packages/metrics/scripts/extra_metrics_reference.py
"""
import json
import os
import sys

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import open_unlearning_reference as ou  # noqa: E402

OUT = os.path.join(ou.HERE, '..', 'test', 'fixtures', 'extra-metrics-reference.json')
IGNORE = ou.IGNORE_INDEX


def tokenwise_logprobs(item, grad=False):
    ids = torch.tensor([item['input_ids']])
    labels = torch.tensor(item['labels'])
    T = ids.shape[1]
    logits = ou.forward(ids, torch.ones_like(ids), torch.arange(T)[None])
    lp = torch.log_softmax(logits, -1)[0, :-1]
    target = lp.gather(1, ids[0, 1:, None])[:, 0]
    idx = (labels != IGNORE).nonzero()[:, 0][:-1]
    return target[idx[0] - 1: idx[-1]]


def min_k(lp, k=0.4):
    lp = lp.detach().numpy()
    n = max(1, int(len(lp) * k))
    return float(-np.mean(np.sort(lp)[:n]))


def gradnorm(item):
    for w in ou.W.values():
        w.requires_grad_(True)
        w.grad = None
    loss = -torch.mean(tokenwise_logprobs(item, grad=True))
    loss.backward()
    norms = [w.grad.norm(p=2) for w in ou.W.values() if w.grad is not None]
    for w in ou.W.values():
        w.requires_grad_(False)
    return float(torch.stack(norms).mean())


def pretraining_instance(prefix, text, max_length, predict_with_generate=False, insert_space=False):
    full = ou.encode(prefix + (' ' if insert_space else '') + text)
    prefix_ids = ou.encode(prefix)
    full = full[: len(prefix_ids) + max_length]
    n = max(len(prefix_ids), 1)
    labels = [IGNORE] * n + full[n:]
    return {'input_ids': prefix_ids if predict_with_generate else full, 'labels': labels}


def few_shot_instance(shots, question, answer):
    t = {'user_start_tag': 'Question: ', 'user_end_tag': '\n', 'asst_start_tag': 'Answer: ', 'asst_end_tag': '\n\n'}
    wrapped = ''.join(t['user_start_tag'] + q + t['user_end_tag'] + t['asst_start_tag'] + a + t['asst_end_tag'] for q, a in shots)
    wrapped += t['user_start_tag'] + question + t['user_end_tag'] + t['asst_start_tag']
    chat = ou.encode(wrapped + answer)[: ou.MAX_LENGTH]
    prompt = ou.encode(wrapped)[: ou.MAX_LENGTH]
    if chat[-1] != ou.EOS:
        chat = chat + [ou.EOS]
    return {'input_ids': prompt, 'labels': chat}


def generate_rouge(items, max_new_tokens, stopwords=()):
    old = ou.MAX_NEW_TOKENS
    ou.MAX_NEW_TOKENS = max_new_tokens
    try:
        texts, _ = ou.greedy_generate(items)
    finally:
        ou.MAX_NEW_TOKENS = old
    out = []
    for t in texts:
        g = t['generation']
        for w in stopwords:  # eval_text_similarity: cut at each stopword in order, then strip
            if w and w in g:
                g = g.split(w)[0]
        g = g.strip()
        r = ou.rouge(t['ground_truth'], g)
        out.append({**r, 'input': t['input'], 'ground_truth': t['ground_truth'], 'generation': g})
    return out


def loglik(context, continuation):
    ctx = ou.encode(context)
    whole = ou.encode(context + continuation)
    assert whole[: len(ctx)] == ctx
    ids = torch.tensor([whole])
    T = ids.shape[1]
    lp = torch.log_softmax(ou.forward(ids, torch.ones_like(ids), torch.arange(T)[None]), -1)[0]
    return float(sum(lp[t - 1, whole[t]] for t in range(len(ctx), len(whole))))


def main():
    torch.manual_seed(0)
    tofu_forget = ou.rows('forget10', 3)
    tofu_holdout = ou.rows('holdout10', 3)
    grad = {side: [gradnorm(ou.preprocess_chat_instance(r['question'], r['answer'])) for r in rows]
            for side, rows in (('forget', tofu_forget), ('holdout', tofu_holdout))}
    grad_auc = float(roc_auc_score([0] * 3 + [1] * 3, grad['forget'] + grad['holdout']))

    verbmem = [
        {'prompt': 'One day, a little girl named Lily found a needle in her room.', 'gt': 'She knew it was difficult to play with it because it was sharp.'},
        {'prompt': 'Once upon a time, there was a little boy named Tim.', 'gt': 'Tim had a big red ball. He liked to play with his ball every day.'},
        {'prompt': 'The sun was shining and the birds were singing.', 'gt': 'Sue and her mom went to the park to play on the swings.'},
    ]
    verb = generate_rouge([pretraining_instance(v['prompt'], v['gt'], 2048, True, True) for v in verbmem], 128)

    icl = [{'question': 'Who found a needle?', 'answer': 'Lily'}, {'question': 'What color was the ball?', 'answer': 'red'}]
    knowmem = [
        {'question': 'Who had a big red ball?', 'answer': 'Tim'},
        {'question': 'Where did Sue and her mom go?', 'answer': 'the park'},
        {'question': 'What was sharp?', 'answer': 'the needle'},
    ]
    know = generate_rouge([few_shot_instance([(s['question'], s['answer']) for s in icl], k['question'], k['answer']) for k in knowmem],
                          32, ['\n\n', '\nQuestion', 'Question:'])

    members = [
        'Lily went to her mom and said, "Mom, I found this needle. Can you share it with me and sew my shirt?"',
        'Once upon a time, there was a little dog named Max. Max liked to run and play in the park with his friends.',
        'Tom and Sam were best friends. They liked to play with their toys and share their snacks.',
    ]
    nonmembers = [
        'First Citizen: Before we proceed any further, hear me speak.',
        'The quarterly report shows revenue growth across all regions despite inflation.',
        'Photosynthesis converts light energy into chemical energy stored in glucose.',
    ]
    mk = {side: [min_k(tokenwise_logprobs(pretraining_instance('', t, 2048))) for t in texts]
          for side, texts in (('forget', members), ('holdout', nonmembers))}
    mk_auc = float(roc_auc_score([0] * 3 + [1] * 3, mk['forget'] + mk['holdout']))
    privleak = ((1 - mk_auc) - (1 - 0.5)) / ((1 - 0.5) + 1e-10) * 100

    mc = [
        {'question': 'What did Lily find in her room?', 'choices': ['a needle', 'a car', 'the moon'], 'answer': 0},
        {'question': 'What did Tim like to play with?', 'choices': ['taxes', 'his ball', 'a computer'], 'answer': 1},
        {'question': 'Where did Sue go with her mom?', 'choices': ['the office', 'the bank', 'the park'], 'answer': 2},
        {'question': 'What is the capital of France?', 'choices': ['Paris', 'a cat'], 'answer': 0},
    ]
    ll = [[loglik(f"Question: {m['question']}\nAnswer:", ' ' + c) for c in m['choices']] for m in mc]
    acc = [int(int(np.argmax(l)) == m['answer']) for l, m in zip(ll, mc)]
    acc_norm = [int(int(np.argmax([x / len(' ' + c) for x, c in zip(l, m['choices'])])) == m['answer']) for l, m in zip(ll, mc)]

    out = {
        'source': 'packages/metrics/scripts/extra_metrics_reference.py',
        'mia_gradnorm': {'forget': grad['forget'], 'holdout': grad['holdout'], 'auc': grad_auc},
        'verbmem': {'data': verbmem, 'forget_verbmem_ROUGE': verb},
        'knowmem': {'icl': icl, 'data': knowmem, 'forget_knowmem_ROUGE': know},
        'privleak_texts': {'forget': members, 'holdout': nonmembers, 'mia_min_k': mk, 'auc': mk_auc, 'privleak': privleak},
        'multiple_choice': {'data': mc, 'loglik': ll, 'acc': acc, 'acc_norm': acc_norm},
    }
    with open(OUT, 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')
    print('wrote', os.path.relpath(OUT), '| gradnorm', grad, grad_auc, '| verbmem F1', [round(v['rougeL_f1'], 4) for v in verb],
          '| knowmem F1', [round(v['rougeL_f1'], 4) for v in know], [v['generation'] for v in know],
          '| min-k', mk, 'auc', mk_auc, 'privleak', privleak, '| mc acc', acc, acc_norm, file=sys.stderr)


if __name__ == '__main__':
    main()

# PyTorch twin of @unlearn/models' Llama (HF LlamaForCausalLM math: RMSNorm, rotate-half RoPE, grouped-query
# attention, SwiGLU MLP, tied embeddings; the model is bench/speed-native/torch_models.py's), timed on the step kinds
# of `unlearn bench` (bench/speed/run.mjs runs both).
# Usage: OMP_NUM_THREADS=N /usr/bin/python3 llama_torch.py --config config.json --threads N --mode MODE
#   forward          forward + CE loss under no_grad
#   adamw            zero_grad + forward + CE + backward + AdamW step (decay on rank >= 2 only)
#   sophia-gnb       adamw's backward + a Gauss-Newton-Bartlett estimate (CE on labels sampled from softmax,
#                    h = B·ĝ⊙ĝ; Sophia paper Alg. 2) every step + the Sophia update
#   sophia-fisher    backward + h from g⊙g of the actual loss (SOUL's code), + the Sophia update
#   sophia-hutchinson backward + u⊙(Hu) with Hu by central finite differences of gradients (2 extra backward
#                    passes; what @unlearn/optim does, since tfjs has no double backprop) + the Sophia update
# Prints one JSON line: {"engine": "torch", "mode", "threads", "stepSeconds": [...], "tokensPerStep", "peakRssMB"}.
import argparse, json, os, resource, sys, time
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'speed-native'))
from torch_models import llama  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument('--config', required=True)
ap.add_argument('--mode', default='adamw')
ap.add_argument('--threads', type=int, default=1)
ap.add_argument('--steps', type=int, default=5)
ap.add_argument('--warmup', type=int, default=2)
ap.add_argument('--batch', type=int, default=8)
ap.add_argument('--seq', type=int, default=128)
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
cfg = json.load(open(a.config))
B, T = a.batch, a.seq
V = cfg['vocab_size']
twin = llama(cfg, B, T)
model, ids, loss_fn = twin.model, twin.ids, twin.loss_and_logits
params = [p for p in model.parameters()]


decay = [p for p in params if p.dim() >= 2]
no_decay = [p for p in params if p.dim() < 2]
adamw = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.01}, {'params': no_decay, 'weight_decay': 0.0}], lr=1e-4)
m = [torch.zeros_like(p) for p in params]
h = [torch.zeros_like(p) for p in params]
BT = B * (T - 1)


def sophia_update(hhat):
    # SOUL / Sophia: m ← β1 m + (1−β1) g; h ← β2 h + (1−β2) ĥ; θ ← θ(1−ηλ) − η·clip(m / max(ρ·B·h, ε), 1)
    with torch.no_grad():
        for p, mi, hi, hh in zip(params, m, h, hhat):
            mi.mul_(0.965).add_(p.grad, alpha=0.035)
            hi.mul_(0.99).add_(hh, alpha=0.01)
            p.mul_(1 - 1e-4 * 0.01)
            p.add_(torch.clamp(mi / torch.clamp(0.04 * BT * hi, min=1e-15), -1, 1), alpha=-1e-4)


def grads_now():
    return [p.grad.detach().clone() for p in params]


def step():
    if a.mode == 'forward':
        with torch.no_grad():
            loss_fn()
        return
    for p in params:
        p.grad = None
    loss, logits = loss_fn()
    loss.backward()
    if a.mode == 'adamw':
        adamw.step()
        return
    if a.mode == 'sophia-fisher':
        sophia_update([g * g for g in grads_now()])
        return
    g = grads_now()
    if a.mode == 'sophia-gnb':
        with torch.no_grad():
            sampled = torch.multinomial(logits[:, :-1].reshape(-1, V).softmax(-1), 1).squeeze(-1)
        for p in params:
            p.grad = None
        model.zero_grad()
        logits2 = model(ids)
        F.cross_entropy(logits2[:, :-1].reshape(-1, V), sampled).backward()
        hhat = [BT * p.grad * p.grad for p in params]
    elif a.mode == 'sophia-hutchinson':
        eps = 1e-3
        u = [torch.randint(0, 2, p.shape).float() * 2 - 1 for p in params]
        def grad_at(sign):
            with torch.no_grad():
                for p, ui in zip(params, u):
                    p.add_(ui, alpha=sign * eps)
            for p in params:
                p.grad = None
            loss_fn()[0].backward()
            out = grads_now()
            with torch.no_grad():
                for p, ui in zip(params, u):
                    p.add_(ui, alpha=-sign * eps)
            return out
        gp, gm = grad_at(1), grad_at(-1)
        hhat = [ui * (a_ - b_) / (2 * eps) for ui, a_, b_ in zip(u, gp, gm)]
    else:
        raise SystemExit(f'unknown mode {a.mode}')
    for p, gi in zip(params, g):
        p.grad = gi
    sophia_update(hhat)


for _ in range(a.warmup):
    step()
times = []
for _ in range(a.steps):
    t0 = time.perf_counter()
    step()
    times.append(time.perf_counter() - t0)
print(json.dumps({
    'engine': 'torch', 'mode': a.mode, 'threads': a.threads, 'stepSeconds': times, 'tokensPerStep': B * T,
    'params': sum(p.numel() for p in params), 'peakRssMB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    'torch': torch.__version__,
}))

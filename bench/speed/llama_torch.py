# PyTorch twin of @unlearn/models' Llama (HF LlamaForCausalLM math: RMSNorm, rotate-half RoPE, grouped-query
# attention, SwiGLU MLP, tied embeddings), timed on the same step kinds as bench/speed/tfjs_steps.mjs.
# Usage: OMP_NUM_THREADS=N /usr/bin/python3 llama_torch.py --config config.json --threads N --mode MODE
#   forward          forward + CE loss under no_grad
#   adamw            zero_grad + forward + CE + backward + AdamW step (decay on rank >= 2 only)
#   sophia-gnb       adamw's backward + a Gauss-Newton-Bartlett estimate (CE on labels sampled from softmax,
#                    h = B·ĝ⊙ĝ; Sophia paper Alg. 2) every step + the Sophia update
#   sophia-fisher    backward + h from g⊙g of the actual loss (SOUL's code), + the Sophia update
#   sophia-hutchinson backward + u⊙(Hu) with Hu by central finite differences of gradients (2 extra backward
#                    passes; what @unlearn/optim does, since tfjs has no double backprop) + the Sophia update
# Prints one JSON line: {"engine": "torch", "mode", "threads", "stepSeconds": [...], "tokensPerStep", "peakRssMB"}.
import argparse, json, math, resource, time
import torch
import torch.nn as nn
import torch.nn.functional as F

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
V, D, L = cfg['vocab_size'], cfg['hidden_size'], cfg['num_hidden_layers']
H = cfg['num_attention_heads']
KV = cfg.get('num_key_value_heads') or H
HD = cfg.get('head_dim') or D // H
FF = cfg['intermediate_size']
EPS = cfg.get('rms_norm_eps', 1e-6)
THETA = cfg.get('rope_theta', 10000.0)
B, T = a.batch, a.seq


class RMSNorm(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS))


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


inv_freq = 1.0 / (THETA ** (torch.arange(0, HD, 2).float() / HD))
freqs = torch.outer(torch.arange(T).float(), inv_freq)
emb = torch.cat((freqs, freqs), dim=-1)
COS, SIN = emb.cos()[None, None], emb.sin()[None, None]
CAUSAL = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.input_layernorm, self.post_attention_layernorm = RMSNorm(D), RMSNorm(D)
        self.q_proj = nn.Linear(D, H * HD, bias=False)
        self.k_proj = nn.Linear(D, KV * HD, bias=False)
        self.v_proj = nn.Linear(D, KV * HD, bias=False)
        self.o_proj = nn.Linear(H * HD, D, bias=False)
        self.gate_proj = nn.Linear(D, FF, bias=False)
        self.up_proj = nn.Linear(D, FF, bias=False)
        self.down_proj = nn.Linear(FF, D, bias=False)

    def forward(self, x):
        h = self.input_layernorm(x)
        q = self.q_proj(h).view(B, T, H, HD).transpose(1, 2)
        k = self.k_proj(h).view(B, T, KV, HD).transpose(1, 2)
        v = self.v_proj(h).view(B, T, KV, HD).transpose(1, 2)
        q, k = q * COS + rotate_half(q) * SIN, k * COS + rotate_half(k) * SIN
        k, v = k.repeat_interleave(H // KV, dim=1), v.repeat_interleave(H // KV, dim=1)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(HD)
        att = att.masked_fill(CAUSAL, float('-inf')).softmax(-1)
        x = x + self.o_proj((att @ v).transpose(1, 2).reshape(B, T, H * HD))
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class Llama(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed_tokens = nn.Embedding(V, D)
        self.layers = nn.ModuleList(Layer() for _ in range(L))
        self.norm = RMSNorm(D)
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, 0, 0.02)

    def forward(self, ids):
        x = self.embed_tokens(ids)
        for layer in self.layers:
            x = layer(x)
        return self.norm(x) @ self.embed_tokens.weight.t()  # tied lm_head


model = Llama()
params = [p for p in model.parameters()]
ids = torch.randint(0, V, (B, T))
labels = ids[:, 1:].reshape(-1)


def loss_fn():
    logits = model(ids)
    return F.cross_entropy(logits[:, :-1].reshape(-1, V), labels), logits


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

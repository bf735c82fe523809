# PyTorch side of bench/speed-native/run.mjs: a worker that builds one model and times one step per request, so the
# Node parent can interleave PyTorch and native steps (a fair ratio on a shared machine: the load both sides see is
# the same). Protocol: one JSON object per line on stdin, one JSON reply per line on stdout.
#   {"cmd": "setup", "model": "gpt" | "llama", "config": {...}, "threads": N, "batch": B, "seq": T}
#   {"cmd": "step", "mode": "forward" | "fwdbwd" | "adamw"}   -> {"seconds": s, "loss": x}
# Models: the reference GPT twin (../shared/reference/gpt_torch.py: LayerNorm, tanh-GELU, dense causal attention,
# tied head) and the HF Llama twin of bench/speed/llama_torch.py (RMSNorm, rotate-half RoPE, GQA, SwiGLU, tied head).
# Modes: forward = loss under no_grad; fwdbwd = zero grads + loss + backward; adamw = fwdbwd + AdamW.step()
# (torch.optim.AdamW, decay on rank >= 2 only).
import json, math, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F


def gpt(cfg, B, T):
    V, D, L, H = cfg['V'], cfg['D'], cfg['L'], cfg['H']
    HD = D // H

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(D), nn.LayerNorm(D)
            self.qkv, self.proj = nn.Linear(D, 3 * D), nn.Linear(D, D)
            self.fc, self.pr = nn.Linear(D, 4 * D), nn.Linear(4 * D, D)
            self.register_buffer('mask', torch.triu(torch.ones(T, T, dtype=torch.bool), 1))

        def forward(self, x):
            q, k, v = self.qkv(self.ln1(x)).split(D, dim=2)
            q, k, v = (t.view(B, T, H, HD).transpose(1, 2) for t in (q, k, v))
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(HD))
            att = att.masked_fill(self.mask, float('-inf')).softmax(-1)
            x = x + self.proj((att @ v).transpose(1, 2).reshape(B, T, D))
            return x + self.pr(F.gelu(self.fc(self.ln2(x)), approximate='tanh'))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(V, D)
            self.wpe = nn.Parameter(torch.zeros(T, D))
            self.blocks = nn.ModuleList(Block() for _ in range(L))
            self.lnf = nn.LayerNorm(D)
            for p in self.parameters():
                if p.dim() == 2:
                    nn.init.normal_(p, 0, 0.02)

        def forward(self, idx):
            x = self.wte(idx) + self.wpe
            for b in self.blocks:
                x = b(x)
            return self.lnf(x) @ self.wte.weight.t()

    model = GPT()
    x = torch.randint(0, V, (B, T), generator=torch.Generator().manual_seed(123))
    y = torch.randint(0, V, (B, T), generator=torch.Generator().manual_seed(456))
    return model, lambda: F.cross_entropy(model(x).view(-1, V), y.view(-1)), 0.1, 1e-3


def llama(cfg, B, T):
    V, D, L = cfg['vocab_size'], cfg['hidden_size'], cfg['num_hidden_layers']
    H = cfg['num_attention_heads']
    KV = cfg.get('num_key_value_heads') or H
    HD = cfg.get('head_dim') or D // H
    FF = cfg['intermediate_size']
    EPS = cfg.get('rms_norm_eps', 1e-6)
    inv_freq = 1.0 / (cfg.get('rope_theta', 10000.0) ** (torch.arange(0, HD, 2).float() / HD))
    emb = torch.cat([torch.outer(torch.arange(T).float(), inv_freq)] * 2, dim=-1)
    COS, SIN = emb.cos()[None, None], emb.sin()[None, None]
    CAUSAL = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)

    class RMSNorm(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(D))

        def forward(self, x):
            return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS))

    def rot(x):
        return torch.cat((-x[..., HD // 2:], x[..., :HD // 2]), dim=-1)

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.n1, self.n2 = RMSNorm(), RMSNorm()
            self.q, self.k = nn.Linear(D, H * HD, bias=False), nn.Linear(D, KV * HD, bias=False)
            self.v, self.o = nn.Linear(D, KV * HD, bias=False), nn.Linear(H * HD, D, bias=False)
            self.gate, self.up = nn.Linear(D, FF, bias=False), nn.Linear(D, FF, bias=False)
            self.down = nn.Linear(FF, D, bias=False)

        def forward(self, x):
            h = self.n1(x)
            q = self.q(h).view(B, T, H, HD).transpose(1, 2)
            k = self.k(h).view(B, T, KV, HD).transpose(1, 2)
            v = self.v(h).view(B, T, KV, HD).transpose(1, 2)
            q, k = q * COS + rot(q) * SIN, k * COS + rot(k) * SIN
            k, v = k.repeat_interleave(H // KV, dim=1), v.repeat_interleave(H // KV, dim=1)
            att = ((q @ k.transpose(-2, -1)) / math.sqrt(HD)).masked_fill(CAUSAL, float('-inf')).softmax(-1)
            x = x + self.o((att @ v).transpose(1, 2).reshape(B, T, H * HD))
            h = self.n2(x)
            return x + self.down(F.silu(self.gate(h)) * self.up(h))

    class Llama(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(V, D)
            self.layers = nn.ModuleList(Layer() for _ in range(L))
            self.norm = RMSNorm()
            for p in self.parameters():
                if p.dim() == 2:
                    nn.init.normal_(p, 0, 0.02)

        def forward(self, ids):
            x = self.embed(ids)
            for layer in self.layers:
                x = layer(x)
            return self.norm(x) @ self.embed.weight.t()

    model = Llama()
    ids = torch.randint(0, V, (B, T), generator=torch.Generator().manual_seed(7))
    labels = ids[:, 1:].reshape(-1)
    return model, lambda: F.cross_entropy(model(ids)[:, :-1].reshape(-1, V), labels), 0.01, 1e-4


state = {}


def handle(req):
    if req['cmd'] == 'setup':
        torch.set_num_threads(req['threads'])
        torch.manual_seed(0)
        build = gpt if req['model'] == 'gpt' else llama
        model, loss_fn, wd, lr = build(req['config'], req['batch'], req['seq'])
        params = list(model.parameters())
        opt = torch.optim.AdamW([{'params': [p for p in params if p.dim() >= 2], 'weight_decay': wd},
                                 {'params': [p for p in params if p.dim() < 2], 'weight_decay': 0.0}], lr=lr)
        state.update(model=model, loss=loss_fn, opt=opt, params=params)
        return {'params': sum(p.numel() for p in params), 'torch': torch.__version__, 'threads': torch.get_num_threads()}
    if req['cmd'] == 'step':
        mode = req['mode']
        t0 = time.perf_counter()
        if mode == 'forward':
            with torch.no_grad():
                loss = state['loss']().item()
        else:
            for p in state['params']:
                p.grad = None
            l = state['loss']()
            l.backward()
            if mode == 'adamw':
                state['opt'].step()
            loss = l.item()
        return {'seconds': time.perf_counter() - t0, 'loss': loss}
    raise ValueError(f"unknown command {req['cmd']}")


for line in sys.stdin:
    if not line.strip():
        continue
    req = json.loads(line)
    if req.get('cmd') == 'exit':
        break
    try:
        out = handle(req)
    except Exception as e:  # one line back to the parent, which reports it
        out = {'error': f'{type(e).__name__}: {e}'.split('\n')[0]}
    sys.stdout.write(json.dumps(out) + '\n')
    sys.stdout.flush()

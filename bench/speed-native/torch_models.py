# The PyTorch twins the speed benchmarks time (bench/speed-native/torch_worker.py, bench/speed/llama_torch.py):
#   gpt    the reference GPT (../shared/reference/gpt_torch.py: LayerNorm, tanh-GELU, dense causal attention, tied head)
#   llama  the HF Llama math of @unlearn/models (RMSNorm, rotate-half RoPE, GQA, SwiGLU MLP, tied embeddings)
# Each returns a Twin: the module, loss_and_logits() -> (mean next-token CE, logits), the input ids, and the AdamW
# weight decay and learning rate the native side uses.
import math
from collections import namedtuple
import torch
import torch.nn as nn
import torch.nn.functional as F

Twin = namedtuple('Twin', 'model loss_and_logits ids weight_decay lr')


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

    def loss_and_logits():
        logits = model(x)
        return F.cross_entropy(logits.view(-1, V), y.view(-1)), logits
    return Twin(model, loss_and_logits, x, 0.1, 1e-3)


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

    def loss_and_logits():
        logits = model(ids)
        return F.cross_entropy(logits[:, :-1].reshape(-1, V), labels), logits
    return Twin(model, loss_and_logits, ids, 0.01, 1e-4)

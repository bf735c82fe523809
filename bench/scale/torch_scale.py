# PyTorch side of bench/scale/run.mjs (Debian python3-torch, /usr/bin/python3): one scenario per process, so its
# ru_maxrss is that scenario's peak. argv[1] is one JSON request; one JSON line comes back on stdout.
#   {"cmd": "write", "config": {...}, "dir": D}  a random-init HF folder (config.json + model.safetensors in BF16,
#                                                 HF Llama key names), written tensor by tensor (no full copy in memory)
#   {"cmd": "full" | "lora", "config": {...}, "threads": N, "batch": B, "seq": T, "steps": S, "lora": {...}}
#       full: AdamW on every weight; lora: a hand-written LoRA (Hu et al. 2021: W x + (alpha/r) B A x, A kaiming-uniform,
#       B zero) on the target projections, AdamW on the adapters only, base weights requires_grad=False.
#       Reports forward, forward+backward and optimizer-step seconds (median of S after one warm-up) and peak RSS.
# The Llama is the same math as @unlearn/models' (RMSNorm, rotate-half RoPE, grouped-query attention, SwiGLU, tied head).
import json, math, os, resource, struct, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F


def shapes(c):
    D, I, V, L = c['hidden_size'], c['intermediate_size'], c['vocab_size'], c['num_hidden_layers']
    hd = c['head_dim']
    q, kv = c['num_attention_heads'] * hd, c['num_key_value_heads'] * hd
    out = [('model.embed_tokens.weight', [V, D])]
    for i in range(L):
        l = f'model.layers.{i}.'
        out += [(l + 'input_layernorm.weight', [D]), (l + 'self_attn.q_proj.weight', [q, D]), (l + 'self_attn.k_proj.weight', [kv, D]),
                (l + 'self_attn.v_proj.weight', [kv, D]), (l + 'self_attn.o_proj.weight', [D, q]),
                (l + 'post_attention_layernorm.weight', [D]), (l + 'mlp.gate_proj.weight', [I, D]), (l + 'mlp.up_proj.weight', [I, D]),
                (l + 'mlp.down_proj.weight', [D, I])]
    out.append(('model.norm.weight', [D]))
    if not c.get('tie_word_embeddings'):
        out.append(('lm_head.weight', [V, D]))
    return out


def write(c, folder):
    os.makedirs(folder, exist_ok=True)
    torch.manual_seed(0)
    entries = shapes(c)
    header, offset = {}, 0
    for name, shape in entries:
        n = math.prod(shape) * 2
        header[name] = {'dtype': 'BF16', 'shape': shape, 'data_offsets': [offset, offset + n]}
        offset += n
    header['__metadata__'] = {'format': 'pt'}
    h = json.dumps(header).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    tmp = os.path.join(folder, 'model.safetensors.tmp')
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h)
        for name, shape in entries:
            t = torch.ones(shape) if name.endswith('norm.weight') else torch.randn(shape) * c.get('initializer_range', 0.02)
            f.write(t.to(torch.bfloat16).view(torch.int16).numpy().tobytes())
            del t
    os.replace(tmp, os.path.join(folder, 'model.safetensors'))
    with open(os.path.join(folder, 'config.json'), 'w') as f:
        json.dump({**c, 'architectures': ['LlamaForCausalLM'], 'torch_dtype': 'bfloat16'}, f, indent=2)
    return {'dir': folder, 'bytes': offset}


class LoRALinear(nn.Module):
    def __init__(self, base, r, alpha):
        super().__init__()
        self.base, self.scale = base, alpha / r
        self.A = nn.Parameter(torch.empty(r, base.in_features))
        self.B = nn.Parameter(torch.zeros(base.out_features, r))
        nn.init.kaiming_uniform_(self.A, a=math.sqrt(5))

    def forward(self, x):
        return self.base(x) + self.scale * ((x @ self.A.t()) @ self.B.t())


def build(c, B, T):
    V, D, L = c['vocab_size'], c['hidden_size'], c['num_hidden_layers']
    H, KV, HD, FF, EPS = c['num_attention_heads'], c['num_key_value_heads'], c['head_dim'], c['intermediate_size'], c['rms_norm_eps']
    inv_freq = 1.0 / (c['rope_theta'] ** (torch.arange(0, HD, 2).float() / HD))
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
            self.input_layernorm, self.post_attention_layernorm = RMSNorm(), RMSNorm()
            self.q_proj, self.k_proj = nn.Linear(D, H * HD, bias=False), nn.Linear(D, KV * HD, bias=False)
            self.v_proj, self.o_proj = nn.Linear(D, KV * HD, bias=False), nn.Linear(H * HD, D, bias=False)
            self.gate_proj, self.up_proj, self.down_proj = nn.Linear(D, FF, bias=False), nn.Linear(D, FF, bias=False), nn.Linear(FF, D, bias=False)

        def forward(self, x):
            h = self.input_layernorm(x)
            q = self.q_proj(h).view(B, T, H, HD).transpose(1, 2)
            k = self.k_proj(h).view(B, T, KV, HD).transpose(1, 2)
            v = self.v_proj(h).view(B, T, KV, HD).transpose(1, 2)
            q, k = q * COS + rot(q) * SIN, k * COS + rot(k) * SIN
            k, v = k.repeat_interleave(H // KV, dim=1), v.repeat_interleave(H // KV, dim=1)
            att = ((q @ k.transpose(-2, -1)) / math.sqrt(HD)).masked_fill(CAUSAL, float('-inf')).softmax(-1)
            x = x + self.o_proj((att @ v).transpose(1, 2).reshape(B, T, H * HD))
            h = self.post_attention_layernorm(x)
            return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))

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
    return model, lambda: F.cross_entropy(model(ids)[:, :-1].reshape(-1, V), labels)


def bench(req):
    torch.set_num_threads(req['threads'])
    torch.manual_seed(0)
    c, B, T, S = req['config'], req['batch'], req['seq'], req['steps']
    model, loss_fn = build(c, B, T)
    if req['cmd'] == 'lora':
        for p in model.parameters():
            p.requires_grad_(False)
        lo = req['lora']
        for layer in model.layers:
            for name in lo['targets']:
                setattr(layer, name, LoRALinear(getattr(layer, name), lo['r'], lo['alpha']))
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4)

    def timed(f):
        xs = []
        for i in range(S + 1):
            t0 = time.perf_counter()
            f()
            xs.append(time.perf_counter() - t0)
        xs = sorted(xs[1:])
        return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2

    def forward():
        with torch.no_grad():
            loss_fn().item()

    def fwdbwd():
        for p in params:
            p.grad = None
        loss_fn().backward()

    def step():
        fwdbwd()
        opt.step()

    fwd = timed(forward)
    fb = timed(fwdbwd)
    st = timed(step)
    return {'scenario': f"torch-{req['cmd']}", 'params': sum(p.numel() for p in model.parameters()), 'trainableParams': sum(p.numel() for p in params),
            'forwardSeconds': fwd, 'fwdbwdSeconds': fb, 'backwardOverForward': (fb - fwd) / fwd, 'stepSeconds': st,
            'tokensPerSecond': B * T / st, 'peakRss': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            'torch': torch.__version__, 'torchThreads': torch.get_num_threads()}


req = json.loads(sys.argv[1])
try:
    out = write(req['config'], req['dir']) if req['cmd'] == 'write' else bench(req)
except Exception as e:
    out = {'error': f'{type(e).__name__}: {e}'.split('\n')[0]}
print(json.dumps(out))

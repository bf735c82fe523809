# PyTorch side of bench/speed-native/run.mjs: a worker that builds one model and times one step per request, so the
# Node parent can interleave PyTorch and native steps (a fair ratio on a shared machine: the load both sides see is
# the same). Protocol: one JSON object per line on stdin, one JSON reply per line on stdout.
#   {"cmd": "setup", "model": "gpt" | "llama", "config": {...}, "threads": N, "batch": B, "seq": T}
#   {"cmd": "step", "mode": "forward" | "fwdbwd" | "adamw"}   -> {"seconds": s, "loss": x}
# Models: the twins of torch_models.py (the reference GPT and the HF Llama).
# Modes: forward = loss under no_grad; fwdbwd = zero grads + loss + backward; adamw = fwdbwd + AdamW.step()
# (torch.optim.AdamW, decay on rank >= 2 only).
import json, sys, time
import torch
from torch_models import gpt, llama


state = {}


def handle(req):
    if req['cmd'] == 'setup':
        torch.set_num_threads(req['threads'])
        torch.manual_seed(0)
        build = gpt if req['model'] == 'gpt' else llama
        twin = build(req['config'], req['batch'], req['seq'])
        model = twin.model
        params = list(model.parameters())
        opt = torch.optim.AdamW([{'params': [p for p in params if p.dim() >= 2], 'weight_decay': twin.weight_decay},
                                 {'params': [p for p in params if p.dim() < 2], 'weight_decay': 0.0}], lr=twin.lr)
        state.update(model=model, loss=lambda: twin.loss_and_logits()[0], opt=opt, params=params)
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

#!/usr/bin/python3
"""Golden values for @unlearn/robustness's weight quantizers, from an independent numpy implementation.

Run: /usr/bin/python3 packages/robustness/scripts/quantizer-goldens.py  (writes test/quantizer-goldens.json)

Definitions (float32 throughout, round half to even = np.rint, as torch.round and CUDA __float2int_rn do):
  int8  (LLM.int8() vector-wise absmax, Dettmers et al. 2022, arXiv 2208.07339): per output row r,
        s_r = max|W_r| / 127, q = clip(rint(W / s_r), -127, 127), W' = q * s_r.
  int4  (symmetric absmax round-to-nearest, groups of g consecutive inputs per row; Dettmers & Zettlemoyer 2023,
        arXiv 2212.09720): s = max|group| / 7, q = clip(rint(W / s), -7, 7), W' = q * s. The last group of a row is
        shorter when the row length is not a multiple of g.
  nf4   (QLoRA, Dettmers et al. 2023, arXiv 2305.14314, appendix E; bitsandbytes' table): the tensor flattened
        row-major into blocks of 64, x = W / max|block|, code = the nearest of the 16 NF4 values (ties to the
        lower code), W' = NF4[code] * absmax.
A zero scale (an all-zero row/group/block) gives codes 0 (int8/int4) or the code of 0.0 (nf4) and W' = 0.
"""
import base64, hashlib, json, os, struct
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, '..', '..', '..', '..', 'shared', 'models', 'stories260K', 'model.safetensors')

# QLoRA's NF4 code book (bitsandbytes create_normal_map / the kernels' table)
NF4 = np.array([-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
                -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
                0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
                0.7229568362236023, 1.0], dtype=np.float32)


def safe_div(w, s):
    out = np.zeros_like(w, dtype=np.float32)
    nz = s != 0
    np.divide(w, s, out=out, where=np.broadcast_to(nz, w.shape))
    return out


def int8(w):
    s = (np.abs(w).max(axis=1, keepdims=True) / np.float32(127)).astype(np.float32)
    q = np.clip(np.rint(safe_div(w, s)), -127, 127).astype(np.int8)
    return q, s[:, 0], (q.astype(np.float32) * s).astype(np.float32)


def int4(w, g):
    rows, cols = w.shape
    ng = -(-cols // g)
    q = np.zeros(w.shape, np.int8)
    s = np.zeros((rows, ng), np.float32)
    deq = np.zeros(w.shape, np.float32)
    for j in range(ng):
        blk = w[:, j * g:(j + 1) * g]
        sj = (np.abs(blk).max(axis=1, keepdims=True) / np.float32(7)).astype(np.float32)
        qj = np.clip(np.rint(safe_div(blk, sj)), -7, 7).astype(np.int8)
        q[:, j * g:(j + 1) * g] = qj
        s[:, j] = sj[:, 0]
        deq[:, j * g:(j + 1) * g] = qj.astype(np.float32) * sj
    return q, s.reshape(-1), deq


def nf4(w, block=64):
    flat = w.reshape(-1)
    n = flat.size
    nb = -(-n // block)
    codes = np.zeros(n, np.uint8)
    absmax = np.zeros(nb, np.float32)
    deq = np.zeros(n, np.float32)
    for b in range(nb):
        x = flat[b * block:(b + 1) * block]
        a = np.float32(np.abs(x).max())
        xn = x / a if a != 0 else np.zeros_like(x)
        xn = xn.astype(np.float32)
        c = np.argmin(np.abs(xn[:, None] - NF4[None, :]), axis=1)  # first minimum = lower code on ties
        codes[b * block:(b + 1) * block] = c
        absmax[b] = a
        deq[b * block:(b + 1) * block] = NF4[c] * a
    return codes, absmax, deq.reshape(w.shape)


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a).astype('<f4').tobytes()).decode()


def hexcodes(q, offset):
    # one hex digit per int4/nf4 code (int4 stored as q + 8), two per int8 code (q + 128)
    width = 2 if offset == 128 else 1
    return ''.join(format(int(v) + offset, f'0{width}x') for v in q.reshape(-1))


def case(name, w, full):
    out = {'name': name, 'shape': list(w.shape)}
    if full:
        out['weights'] = b64(w)
    for method, fn, off in [('int8', int8, 128), ('int4-g64', lambda x: int4(x, 64), 8),
                            ('int4-g128', lambda x: int4(x, 128), 8), ('nf4', nf4, 0)]:
        q, s, deq = fn(w)
        entry = {'codes': hexcodes(q, off), 'scales': b64(s),
                 'dequantizedSha256': hashlib.sha256(deq.astype('<f4').tobytes()).hexdigest(),
                 'maxAbsError': float(np.abs(deq - w).max())}
        if full:
            entry['dequantized'] = b64(deq)
        out[method] = entry
    return out


def read_safetensors(path, names):
    raw = open(path, 'rb').read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for k in names:
        e = header[k]
        assert e['dtype'] == 'F32'
        a, b = e['data_offsets']
        out[k] = np.frombuffer(raw[8 + n + a:8 + n + b], dtype='<f4').reshape(e['shape']).astype(np.float32)
    return out


def main():
    rng = np.random.default_rng(17)
    cases = []
    w = (rng.standard_normal((6, 200)) * 0.05).astype(np.float32)
    w[2] = 0  # an all-zero row: zero scales
    w[3, :8] = [127, 0.5, 1.5, 2.5, -0.5, -2.5, 126.5, -126.5]  # int8 ties (s = 1): rint(x.5) is even
    w[3, 8:] = 0
    w[4, :64] = 0
    w[4, :8] = [7, 0.5, 1.5, 2.5, -0.5, -3.5, 6.5, -6.5]  # int4 ties in the first group of 64 (s = 1)
    cases.append(case('random-6x200-edges', w, True))
    w = (rng.standard_normal((5, 130)) * 0.1).astype(np.float32)
    w[1, 7] = 3.0  # an outlier dominating its row/group/block
    cases.append(case('random-5x130-outlier', w, True))
    real = ['model.layers.0.self_attn.q_proj.weight', 'model.layers.2.mlp.down_proj.weight']
    for k, v in read_safetensors(SHARED, real).items():
        cases.append(case(f'stories260K:{k}', v, False))
    out = {
        'generatedBy': 'packages/robustness/scripts/quantizer-goldens.py', 'numpy': np.__version__,
        'nf4CodeBook': [float(x) for x in NF4], 'cases': cases,
    }
    with open(os.path.join(HERE, '..', 'test', 'quantizer-goldens.json'), 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()

"""Flattening named parameter dicts into one vector and back: what the golden scripts of @unlearn/objectives and
@unlearn/optim share (influence's H^-1 g and the Gauss-Newton diagonal work on the flat parameter vector).
Import with: sys.path.insert(0, <repo>/scripts/golden); from flat_params import flat, unflat
"""
import torch


def flat(params, names):
    """The parameters in `names` order, each flattened, concatenated."""
    return torch.cat([params[n].reshape(-1) for n in names])


def unflat(vector, names, shapes):
    """Inverse of flat: a dict name -> tensor of shapes[name], read off `vector` in `names` order."""
    out, at = {}, 0
    for n in names:
        k = 1
        for d in shapes[n]:
            k *= d
        out[n] = vector[at:at + k].reshape(shapes[n])
        at += k
    return out

"""Shared helper of the sequence-model parity tests: one layer, same weights, both libraries."""

from __future__ import annotations

import numpy as np

import microtensor as mt


def _flat(out):
    if isinstance(out, tuple | list):
        return [t for o in out for t in _flat(o)]
    return [out]


def _np(t):
    return t.detach().numpy()


def load_torch_into_mt(tmod, mmod) -> None:
    """Copy the PyTorch module's state_dict into the microtensor one (same keys, same shapes)."""
    tsd = tmod.state_dict()
    assert sorted(tsd) == sorted(mmod.state_dict()), (sorted(tsd), sorted(mmod.state_dict()))
    mmod.load_state_dict({k: mt.tensor(v.detach().numpy().copy()) for k, v in tsd.items()})


def load_mt_into_torch(torch, mmod, tmod) -> None:
    """Copy the microtensor module's state_dict into the PyTorch one."""
    tmod.load_state_dict({k: torch.tensor(v.detach().numpy().copy()) for k, v in mmod.state_dict().items()})


def compare(torch, tmod, mmod, inputs, call=None, rtol=1e-9, atol=1e-10, seed=0):
    """Run call(module, *inputs) on both (float arrays become leaves that require grad; other values
    pass as they are, converted per library by `convert` when callable), compare the outputs, then
    backpropagate the same weighted sum of the floating outputs and compare every input's and
    parameter's gradient."""
    call = call or (lambda m, *xs: m(*xs))

    def leaves(lib):
        out = []
        for a in inputs:
            if isinstance(a, np.ndarray):
                out.append(lib.tensor(a, requires_grad=a.dtype.kind == "f"))
            elif callable(a):
                out.append(a(lib))
            else:
                out.append(a)
        return out

    mx, tx = leaves(mt), leaves(torch)
    mo = [o for o in _flat(call(mmod, *mx)) if o is not None]
    to = [o for o in _flat(call(tmod, *tx)) if o is not None]
    assert len(mo) == len(to)
    rng = np.random.default_rng(seed)
    msum, tsum = 0, 0
    for a, b in zip(mo, to):
        assert tuple(a.shape) == tuple(b.shape), (a.shape, b.shape)
        np.testing.assert_allclose(_np(a), _np(b), rtol=rtol, atol=atol, equal_nan=True)
        if b.dtype.is_floating_point and b.requires_grad:
            w = rng.standard_normal(tuple(b.shape))
            keep = ~np.isnan(_np(b))  # fully masked rows are NaN in both: leave them out of the loss
            msum = msum + (a * mt.tensor(np.where(keep, w, 0.0))).masked_fill(mt.tensor(~keep), 0.0).sum()
            tsum = (
                tsum + (b * torch.tensor(np.where(keep, w, 0.0))).masked_fill(torch.tensor(~keep), 0.0).sum()
            )
    msum.backward()
    tsum.backward()
    for a, b in zip(mx, tx):
        if isinstance(b, torch.Tensor) and b.requires_grad:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol, atol=atol)
    mp, tp = dict(mmod.named_parameters()), dict(tmod.named_parameters())
    assert sorted(mp) == sorted(tp)
    for k in tp:
        if tp[k].grad is None:
            assert mp[k].grad is None or not np.any(mp[k].grad.numpy()), k
            continue
        np.testing.assert_allclose(mp[k].grad.numpy(), tp[k].grad.numpy(), rtol=rtol, atol=atol, err_msg=k)
    return mo, to

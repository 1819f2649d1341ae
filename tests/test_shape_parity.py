"""Shape ops and the Tensor surface against PyTorch: values, shapes, dtypes and gradients."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from _parity import check  # noqa: E402

import microtensor as mt  # noqa: E402

RNG = np.random.default_rng(12)
X = RNG.standard_normal((3, 4))
X3 = RNG.standard_normal((2, 3, 4))
V = RNG.standard_normal(5)

PROGRAMS = {
    "split_int": (lambda t, x: x.split(1, dim=1), X),
    "split_sizes": (lambda t, x: t.split(x, [1, 3], 1), X),
    "split_uneven": (lambda t, x: x.split(2), V),
    "tensor_split_n": (lambda t, x: t.tensor_split(x, 3, dim=1), X),
    "tensor_split_idx": (lambda t, x: x.tensor_split([1, 3], 1), X),
    "chunk": (lambda t, x: x.chunk(3, 1), X),
    "chunk_uneven": (lambda t, x: t.chunk(x, 2), V),
    "unbind": (lambda t, x: x.unbind(1), X3),
    "flip": (lambda t, x: t.flip(x, (0, 2)), X3),
    "fliplr_flipud": (lambda t, x: (t.fliplr(x), t.flipud(x)), X),
    "roll": (lambda t, x: t.roll(x, 1, 1), X),
    "roll_multi": (lambda t, x: x.roll((1, -2), (0, 2)), X3),
    "roll_flat": (lambda t, x: t.roll(x, 5), X),
    "rot90": (lambda t, x: [t.rot90(x, k, (0, 1)) for k in range(-1, 4)], X),
    "repeat": (lambda t, x: x.repeat(2, 1, 3), X),
    "tile": (lambda t, x: t.tile(x, (2,)), X),
    "repeat_interleave": (lambda t, x: (x.repeat_interleave(2), t.repeat_interleave(x, 2, dim=1)), X),
    "repeat_interleave_tensor": (lambda t, x: t.repeat_interleave(x, t.tensor([1, 0, 2]), dim=0), X),
    "narrow_select": (lambda t, x: (x.narrow(1, 1, 2), t.narrow(x, 0, -2, 1), x.select(1, -1)), X),
    "movedim": (lambda t, x: (t.movedim(x, 0, -1), x.moveaxis((0, 1), (2, 0))), X3),
    "swapaxes": (lambda t, x: (x.swapaxes(0, 2), t.swapdims(x, 1, 2)), X3),
    "unflatten_ravel": (lambda t, x: (x.unflatten(2, (2, -1)), t.ravel(x)), X3),
    "broadcast": (lambda t, x, v: (t.broadcast_to(v[:4], (3, 4)), *t.broadcast_tensors(x, v[:4])), X, V),
    "atleast": (
        lambda t, x: (t.atleast_1d(x[0, 0]), t.atleast_2d(x[0]), t.atleast_3d(x), t.atleast_3d(x[0])),
        X,
    ),
    "stacks": (
        lambda t, x, v: (
            t.hstack((x, x)),
            t.vstack((x, x[0])),
            t.dstack((x, x)),
            t.column_stack((v[:3], x)),
            t.row_stack((x[0], x[1])),
            t.hstack((v, v)),
        ),
        X,
        V,
    ),  # fmt: skip
    "meshgrid_ij": (lambda t, a, b: t.meshgrid(a, b, indexing="ij"), V, V[:3]),
    "meshgrid_xy": (lambda t, a, b: t.meshgrid(a, b, indexing="xy"), V, V[:3]),
    "cartesian_prod": (lambda t, a, b: t.cartesian_prod(a, b), V[:2], V[:3]),
    "tril_triu": (lambda t, x: (t.tril(x), x.triu(1), t.tril(x3 := x, diagonal=-1), x3.triu(-2)), X),
    "tril_batched": (lambda t, x: t.tril(x), X3),
    "diagonal": (lambda t, x: (x.diagonal(), t.diagonal(x, 1), t.diagonal(x, -1, 1, 2)), X3),
    "diag": (
        lambda t, x, v: (t.diag(v), t.diag(v, 1), t.diag(x), t.diag(x, -1), t.diagflat(x[:2, :2])),
        X,
        V,
    ),
    "diag_embed": (lambda t, x: (t.diag_embed(x), t.diag_embed(x, 1, 0, 2)), X),
    "trace": (lambda t, x: x.trace(), X),
    "cross": (
        lambda t, a, b: (t.cross(a, b, dim=1), a.cross(b, 1), t.cross(a, b[:1], dim=-1)),
        X3[0, :, :3],
        X[:, :3],
    ),
    "cdist": (lambda t, a, b: [t.cdist(a, b, p=p) for p in (1.0, 2.0, 3.0, float("inf"))], X, X[:2] + 0.5),
    "cdist_zero_distance": (lambda t, a: t.cdist(a, a), X),
    "combinations": (
        lambda t, v: (
            t.combinations(v),
            t.combinations(v[:3], 3),
            t.combinations(v[:3], with_replacement=True),
        ),
        V,
    ),
    "block_diag": (lambda t, x, v: t.block_diag(x, v[:2], v[0]), X, V),
}


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_shape_ops_match_torch(name):
    fn, *arrays = PROGRAMS[name]
    check(torch, mt, fn, *arrays)


def test_tri_indices_and_broadcast_shapes():
    for args in ((3, 3), (4, 3, 1), (3, 5, -1)):
        assert mt.tril_indices(*args).tolist() == torch.tril_indices(*args).tolist()
        assert mt.triu_indices(*args).tolist() == torch.triu_indices(*args).tolist()
    assert mt.tril_indices(3, 3).dtype == mt.int64
    assert mt.broadcast_shapes((3, 1), (4,)) == torch.broadcast_shapes((3, 1), (4,))
    with pytest.raises(RuntimeError, match="broadcast_shapes"):
        mt.broadcast_shapes((3,), (4,))


def test_size_is_a_tuple_with_numel_and_torch_repr():
    x = mt.zeros(2, 3)
    s = x.size()
    assert isinstance(s, tuple) and isinstance(x.shape, mt.Size) and s == (2, 3)
    assert repr(s) == repr(torch.zeros(2, 3).size()) == "torch.Size([2, 3])"
    assert str(x.shape) == str(torch.zeros(2, 3).shape) and f"{x.shape!r}" == "torch.Size([2, 3])"
    assert f"{x.shape}" == "(2, 3)"  # the form of microtensor's messages (documented in size.py)
    assert s.numel() == 6 and mt.Size([]).numel() == 1
    assert isinstance(s[1:], mt.Size) and s[1:] == (3,) and s[0] == 2
    assert isinstance(s + (4,), mt.Size) and (1,) + s == (1, 2, 3)
    assert pickle.loads(pickle.dumps(s)) == s
    a, b = x.shape
    assert (a, b) == (2, 3)


def test_tensor_facts_match_torch():
    for dt in ("float32", "float64", "int64", "int32", "bool", "uint8", "int8", "int16", "float16"):
        m, t = (
            mt.zeros(2, 3, dtype=getattr(mt, dt if dt != "bool" else "bool")),
            torch.zeros(2, 3, dtype=getattr(torch, dt)),
        )
        assert m.type() == t.type()
        assert (m.nelement(), m.element_size(), m.itemsize, m.nbytes) == (
            t.nelement(), t.element_size(), t.itemsize, t.nbytes,
        )  # fmt: skip
        assert m.is_floating_point() == t.is_floating_point() and m.is_complex() == t.is_complex()
        assert m.dim() == m.ndimension() == t.ndimension()
    x = mt.ones(2)
    assert x.type(mt.float64).dtype == mt.float64
    assert x.type("torch.LongTensor").dtype == mt.int64


def test_like_factories_take_dtype():
    x = mt.ones(2, 3)
    for name in ("zeros_like", "ones_like", "empty_like"):
        y = getattr(mt, name)(x, dtype=mt.int64)
        assert y.shape == (2, 3) and y.dtype == mt.int64
        assert getattr(mt, name)(x).dtype == mt.float32
    assert mt.full_like(x, 7, dtype=mt.float64).dtype == mt.float64
    assert mt.empty_like(x, requires_grad=True).requires_grad


def test_new_factories_keep_dtype_unless_given():
    x = mt.zeros(2, dtype=mt.float64)
    for name, args in (("new_zeros", (2, 3)), ("new_ones", ((2, 3),)), ("new_empty", (2, 3))):
        y = getattr(x, name)(*args)
        assert y.shape == (2, 3) and y.dtype == mt.float64
    assert x.new_ones(2, dtype=mt.int64).dtype == mt.int64
    f = x.new_full((2, 2), 7.0)
    assert f.dtype == mt.float64 and f.tolist() == [[7.0, 7.0], [7.0, 7.0]]
    t = x.new_tensor([1, 2])
    assert t.dtype == mt.float64 and t.tolist() == [1.0, 2.0]
    assert x.new_zeros(2, requires_grad=True).requires_grad
    c = mt.ones(2, requires_grad=True).clone(memory_format=None)
    assert c.requires_grad and c.grad_fn is not None


def test_errors_name_the_function():
    x = mt.zeros(3, 4)
    with pytest.raises(RuntimeError, match=r"split: split_sizes \[1, 1\].*sum to the size 4"):
        x.split([1, 1], 1)
    with pytest.raises(RuntimeError, match="repeat: number of repeat dims"):
        x.repeat(2)
    with pytest.raises(RuntimeError, match="narrow: start"):
        x.narrow(1, 3, 2)
    with pytest.raises(RuntimeError, match="tril: input tensor must have at least 2"):
        mt.tril(mt.zeros(3))
    with pytest.raises(RuntimeError, match="unflatten"):
        x.unflatten(1, (3, 2))
    with pytest.raises(RuntimeError, match="movedim"):
        x.movedim((0, 0), (0, 1))

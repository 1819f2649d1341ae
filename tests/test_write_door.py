"""Writes go through one door: library code outside tensor.py and ops/ never writes a tensor's
storage directly, but through `Tensor._data_for_write()` (or `copy_`/`fill_`/`zero_` under
no_grad), which bumps the version counter; so a graph recorded before the write refuses to
backward through the new values instead of silently using them (as PyTorch).
"""

from __future__ import annotations

import ast
import pathlib

import numpy as np
import pytest

import microtensor as mt

PACKAGE = pathlib.Path(mt.__file__).parent
MODIFIED = r"modified by an inplace operation"

# ------------------------------------------------------------------ the source scan
# NumPy calls whose first argument is written; keyword `out=` is checked for every call.
_WRITES_FIRST_ARG = {"copyto", "put", "place", "putmask", "shuffle", "fill_diagonal"}
# ndarray methods that write into the array they are called on.
_WRITING_METHODS = {"fill", "sort", "put", "itemset", "resize", "setfield", "partition", "byteswap"}


def _storage_ref(node: ast.AST, aliases: set[str]) -> bool:
    """Whether node is `<expr>._data` (or an alias of one), possibly indexed/attributed further
    (`x._data[0]`, `x._data.T`): an expression through which a write reaches a tensor's storage."""
    while True:
        if isinstance(node, ast.Attribute):
            if node.attr == "_data":
                return True
            node = node.value
        elif isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Name):
            return node.id in aliases
        else:
            return False


def _targets(target: ast.AST):
    if isinstance(target, ast.Tuple | ast.List):
        for t in target.elts:
            yield from _targets(t)
    elif isinstance(target, ast.Starred):
        yield from _targets(target.value)
    else:
        yield target


def _aliases(func: ast.AST) -> set[str]:
    """Names bound in func's own body to a tensor's storage array: `p = param._data`,
    `m, v = a._data, b._data` (writes through them are writes to the storage)."""
    names: set[str] = set()
    for node in ast.walk(func):
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            if isinstance(target, ast.Name) and _storage_ref(node.value, set()):
                names.add(target.id)
            elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                for t, v in zip(target.elts, node.value.elts):
                    if isinstance(t, ast.Name) and _storage_ref(v, set()):
                        names.add(t.id)
    return names


def _direct_writes(source: str) -> list[tuple[int, str]]:
    """(line, kind) of every write to a tensor's storage in source that bypasses the door."""
    tree = ast.parse(source)
    found: list[tuple[int, str]] = []
    scopes = [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef))]
    for scope in scopes:
        aliases = _aliases(scope) if scope is not tree else set()
        body = scope.body
        # only this scope's own statements (nested functions are scopes of their own)
        stack = list(body)
        nodes = []
        while stack:
            n = stack.pop()
            nodes.append(n)
            for child in ast.iter_child_nodes(n):
                if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                    stack.append(child)
        for n in nodes:
            if isinstance(n, ast.Assign | ast.AugAssign | ast.AnnAssign):
                targets = n.targets if isinstance(n, ast.Assign) else [n.target]
                for target in targets:
                    for t in _targets(target):
                        if isinstance(t, ast.Attribute) and t.attr == "_data":
                            found.append((n.lineno, "assignment to ._data"))
                        elif isinstance(t, ast.Subscript) and _storage_ref(t.value, aliases):
                            found.append((n.lineno, "[...] = into the storage"))
                        elif isinstance(n, ast.AugAssign) and isinstance(t, ast.Name) and t.id in aliases:
                            found.append((n.lineno, f"augmented assignment to an alias {t.id!r} of ._data"))
            elif isinstance(n, ast.Call):
                for kw in n.keywords:
                    if kw.arg == "out" and any(
                        _storage_ref(v, aliases)
                        for v in (kw.value.elts if isinstance(kw.value, ast.Tuple) else [kw.value])
                    ):
                        found.append((n.lineno, "out= into the storage"))
                f = n.func
                name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
                if name in _WRITES_FIRST_ARG and n.args and _storage_ref(n.args[0], aliases):
                    found.append((n.lineno, f"{name}() into the storage"))
                if (
                    isinstance(f, ast.Attribute)
                    and f.attr in _WRITING_METHODS
                    and _storage_ref(f.value, aliases)
                ):
                    found.append((n.lineno, f".{f.attr}() on the storage"))
    return sorted(set(found))


# Writes that are allowed, keyed by (file, the line's source text), each with the reason. Only
# places where the write *is* the door, or builds a brand-new tensor's own storage, belong here.
ALLOWED = {
    # Parameter(data) is being constructed: it takes `data`'s storage as its own (and its version
    # counter, so nothing is bypassed); no existing tensor's values change.
    ("nn/parameter.py", "self._data = arr"): "a new Parameter adopting its storage",
}


def _package_writes() -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == "tensor.py" or rel.startswith("ops/"):  # the door and the op layer themselves
            continue
        source = path.read_text()
        lines = source.splitlines()
        for lineno, kind in _direct_writes(source):
            out.setdefault((rel, lines[lineno - 1].strip()), []).append(f"{rel}:{lineno}: {kind}")
    return out


def test_no_library_code_writes_a_tensors_storage_around_the_door():
    writes = _package_writes()
    bad = [w for key, ws in writes.items() if key not in ALLOWED for w in ws]
    assert not bad, (
        "direct writes to a tensor's ._data outside tensor.py and ops/ (they bypass the version "
        "counter; write through Tensor._data_for_write() or copy_ under no_grad):\n" + "\n".join(bad)
    )
    stale = sorted(k for k in ALLOWED if k not in writes)
    assert not stale, f"allow-list entries that no longer match any write; delete them: {stale}"


@pytest.mark.parametrize(
    ("snippet", "kind"),
    [
        ("def f(t, v):\n    t._data = v\n", "assignment to ._data"),
        ("def f(t, v):\n    t._data[...] = v\n", "[...] = into the storage"),
        ("def f(t, v):\n    t._data[0, 1:] = v\n", "[...] = into the storage"),
        ("def f(t, v):\n    t._data += v\n", "assignment to ._data"),
        ("def f(t, v):\n    t.grad._data *= v\n", "assignment to ._data"),
        ("def f(t, v):\n    np.copyto(t._data, v)\n", "copyto() into the storage"),
        ("def f(t, v):\n    np.multiply(v, 2, out=t._data)\n", "out= into the storage"),
        ("def f(t, v):\n    np.add(v, 2, out=(t._data,))\n", "out= into the storage"),
        ("def f(t, v):\n    p = t._data\n    p -= v\n", "augmented assignment to an alias 'p' of ._data"),
        ("def f(t, v):\n    p = t._data\n    p[:] = v\n", "[...] = into the storage"),
        ("def f(t, u, v):\n    m, w = t._data, u._data\n    np.add(m, v, out=w)\n", "out= into the storage"),
        ("def f(t, v):\n    t._data.fill(v)\n", ".fill() on the storage"),
        ("def f(t):\n    rng.shuffle(t._data)\n", "shuffle() into the storage"),
    ],
)
def test_the_scan_finds_each_kind_of_direct_write(snippet, kind):
    assert [k for _, k in _direct_writes(snippet)] == [kind]


@pytest.mark.parametrize(
    "snippet",
    [
        "def f(t):\n    return t._data + 1\n",
        "def f(t):\n    a = t._data.copy()\n    a += 1\n    return a\n",  # a copy, not an alias
        "def f(t):\n    p = t._data_for_write()\n    p -= 1\n",  # the door
        "def f(t, v):\n    np.copyto(t._data_for_write(), v)\n",
        "def f(t):\n    x = np.zeros(3)\n    np.add(x, t._data, out=x)\n",
    ],
)
def test_the_scan_accepts_reads_copies_and_the_door(snippet):
    assert _direct_writes(snippet) == []


# ------------------------------------------------------------------ the door's behaviour
def test_a_write_through_the_door_makes_an_earlier_graph_refuse_backward():
    w = mt.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    x = mt.tensor([[1.0, -1.0]], requires_grad=True)
    y = (x @ w.T).sum()  # saves w for x's gradient
    assert w._version == 0
    with mt.no_grad():
        np.copyto(w._data_for_write(), np.zeros((2, 2), np.float32))
    assert w._version == 1 and w.detach()._version == 1
    assert w.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()


def test_the_door_is_seen_through_views_and_detach():
    base = mt.ones(2, 3)
    view, alias = base[0], base.detach()
    arr = view._data_for_write()
    arr *= 5.0
    assert base._version == alias._version == view._version == 1
    assert base.tolist() == [[5.0, 5.0, 5.0], [1.0, 1.0, 1.0]]
    a = mt.ones(3, requires_grad=True)
    y = (a * base[1]).sum()
    base._data_for_write()[1] = 2.0  # the view saved by Mul is now stale
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()


def test_copy_under_no_grad_after_forward_makes_backward_raise():
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    x = mt.tensor([3.0, 4.0], requires_grad=True)
    y = (x * w).sum()
    with mt.no_grad():
        w.copy_(mt.zeros(2))
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()
    assert x.grad is None and w.grad is None  # nothing accumulated from the refused backward


# ------------------------------------------------------------------ the routed writers
@pytest.mark.parametrize(
    ("make", "states"),
    [
        (lambda ps: mt.optim.SGD(ps, lr=0.1, momentum=0.9), ("momentum_buffer",)),
        (
            lambda ps: mt.optim.Adam(ps, lr=0.1, amsgrad=True),
            ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
        ),
        (
            lambda ps: mt.optim.RMSprop(ps, lr=0.1, momentum=0.5, centered=True),
            ("step", "square_avg", "grad_avg"),
        ),
        (lambda ps: mt.optim.Rprop(ps, lr=0.1), ("step", "prev", "step_size")),
    ],
)
def test_an_optimizer_step_bumps_the_versions_of_what_it_writes(make, states):
    # as PyTorch: every in-place update of a parameter or of its state tensors counts as a write
    w = mt.tensor([1.0, -2.0], requires_grad=True)
    opt = make([w])
    for _ in range(2):
        opt.zero_grad()
        (w * w).sum().backward()
        before = w._version
        olds = {k: opt.state[w][k]._version for k in states if k in opt.state.get(w, {})}
        opt.step()
        assert w._version > before
        for k, v in olds.items():
            assert opt.state[w][k]._version > v, k


def test_engine_accumulation_bumps_the_grads_version_as_pytorch():
    torch = pytest.importorskip("torch")
    versions = []
    for lib in (mt, torch):
        x = lib.ones(2, requires_grad=True)
        (x * 2).sum().backward()
        g = x.grad
        first = g._version
        (x * 2).sum().backward()
        versions.append((first, x.grad is g, g._version))
        assert x.grad.tolist() == [4.0, 4.0]
    assert versions[0] == versions[1] == (0, True, 1)


def test_optimizer_zero_grad_in_place_bumps_and_detaches_as_pytorch():
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    opt = mt.optim.SGD([w], lr=0.1)
    (w * 3).sum().backward()
    g = w.grad
    opt.zero_grad(set_to_none=False)
    assert w.grad is g and g._version == 1 and g.tolist() == [0.0, 0.0]
    # a grad with a history (create_graph=True) is cut out of the graph before being zeroed
    (w**2).sum().backward(create_graph=True)
    assert w.grad.grad_fn is not None
    opt.zero_grad(set_to_none=False)
    assert w.grad.grad_fn is None and not w.grad.requires_grad and w.grad.tolist() == [0.0, 0.0]


def test_random_out_resize_is_refused_before_any_change():
    w = mt.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"randn: cannot resize variables that require grad"):
        mt.randn(4, out=w)
    assert w.shape == (2,) and w._version == 0
    base = mt.zeros(6)
    with pytest.raises(RuntimeError, match=r"randn: out is a view of shape \(2,\)"):
        mt.randn(4, out=base[:2])
    assert base.tolist() == [0.0] * 6 and base._version == 0
    x = mt.zeros(2)
    mt.randn(4, out=x)  # a plain tensor is resized (PyTorch too) and written through the door
    assert x.shape == (4,) and x._version >= 1


# ------------------------------------------------------------------ issue 16 item 4: writes after a forward
# Each writer changes a Linear's weight after the forward saved it; backward must refuse (as PyTorch)
# instead of silently using the new weight (before the door, x.grad came out as the new weight's sum).
def _sgd_step(lib, m):
    m.weight.grad = lib.ones(2, 3)
    lib.optim.SGD(m.parameters(), lr=0.1).step()


def _adam_step(lib, m):
    m.weight.grad = lib.ones(2, 3)
    lib.optim.Adam(m.parameters(), lr=0.1).step()


_WRITERS_AFTER_FORWARD = {
    "init.zeros_": lambda lib, m: lib.nn.init.zeros_(m.weight),
    "init.ones_": lambda lib, m: lib.nn.init.ones_(m.weight),
    "init.constant_": lambda lib, m: lib.nn.init.constant_(m.weight, 0.5),
    "init.normal_": lambda lib, m: lib.nn.init.normal_(m.weight),
    "init.uniform_": lambda lib, m: lib.nn.init.uniform_(m.weight),
    "init.xavier_uniform_": lambda lib, m: lib.nn.init.xavier_uniform_(m.weight),
    "init.kaiming_normal_": lambda lib, m: lib.nn.init.kaiming_normal_(m.weight),
    "init.trunc_normal_": lambda lib, m: lib.nn.init.trunc_normal_(m.weight),
    "init.orthogonal_": lambda lib, m: lib.nn.init.orthogonal_(m.weight),
    "init.eye_": lambda lib, m: lib.nn.init.eye_(m.weight),
    "init.sparse_": lambda lib, m: lib.nn.init.sparse_(m.weight, 0.5),
    "load_state_dict": lambda lib, m: m.load_state_dict({k: v * 0 + 3 for k, v in m.state_dict().items()}),
    "SGD.step": _sgd_step,
    "Adam.step": _adam_step,
}


def _write_after_forward(lib, name):
    """Forward through a Linear, run the writer, then backward; returns (raised message, x.grad)."""
    lib.manual_seed(0)
    lin = lib.nn.Linear(3, 2)
    x = lib.ones(1, 3, requires_grad=True)
    loss = lin(x).sum()
    _WRITERS_AFTER_FORWARD[name](lib, lin)
    try:
        loss.backward()
    except RuntimeError as e:
        return str(e), x.grad
    return None, x.grad


@pytest.mark.parametrize("name", sorted(_WRITERS_AFTER_FORWARD))
def test_a_write_after_the_forward_makes_backward_refuse(name):
    message, grad = _write_after_forward(mt, name)
    assert message is not None, f"{name} after a forward: backward ran silently with the new weights"
    assert "LinearBackward" in message and "modified by an inplace operation" in message
    assert grad is None  # nothing accumulated from the refused backward


@pytest.mark.parametrize("name", sorted(_WRITERS_AFTER_FORWARD))
def test_a_write_after_the_forward_refuses_in_pytorch_too(name):
    torch = pytest.importorskip("torch")
    message, grad = _write_after_forward(torch, name)
    assert message is not None and MODIFIED in message and grad is None


def test_writes_before_the_forward_are_used_by_backward():
    # the counterpart: the same writers before the forward are ordinary, and backward sees them
    lin = mt.nn.Linear(3, 2)
    mt.nn.init.constant_(lin.weight, 0.5)
    lin.load_state_dict({"weight": mt.full((2, 3), 2.0), "bias": mt.zeros(2)})
    x = mt.ones(1, 3, requires_grad=True)
    lin(x).sum().backward()
    assert x.grad.tolist() == [[4.0, 4.0, 4.0]]

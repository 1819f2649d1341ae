"""Repeated structure in a recorded graph: a block of ops applied N times.

A stack of identical layers (the blocks of a transformer in a ModuleList or Sequential) and a
recurrence unrolled over time (an LSTMCell called once per step) record the same run of ops again
and again. `find_repeats` finds those runs, so that `mt.explain` can say "LSTMCell × 20 time steps"
and `mt.viz` can draw one instance as a cluster instead of twenty copies. Both read them from here.

How: the ops are put in recording order (`Op.seq`, the order the program ran them, so one loop
iteration or one layer is a contiguous stretch), each op is reduced to a signature (its display
name, its output's shape and dtype, its inputs' shapes: the ops' declared data, no class names),
and the stretch in which the signature at i equals the one at i + period, covering the most ops,
is the repeated block; the stretches before and after it are searched the same way (a 2-layer
LSTM: one loop per layer). Three refinements make the instances the ones a reader expects:

- the stretch may start a few ops early (the embedding sum before a transformer's first block
  looks like the residual sum ending each block), so the block boundary is placed where the
  fewest tensors cross from one instance into the next (the carried state: h and c, or the
  residual stream);
- the last step of a recurrence often drops the ops that only fed a next step (c_T when the loss
  reads h_T only): a last instance missing exactly such ops still counts;
- ops recorded before the loop that each feed one instance only (nn.LSTM slices every step's
  input first) join their instance.

The weights every instance reads (the same leaf tensor: a recurrence's shared parameters) make it
"time steps"; otherwise the instances are "layers". Their gradient is the sum over the instances
of each instance's contribution: backpropagation through time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .tensor import Tensor

__all__ = ["Repeat", "find_repeats"]

MIN_SAVED = 4  # summarise only when collapsing saves at least this many ops
_MAX_PERIOD = 512  # the longest block looked for (ops per instance)


@dataclass
class Repeat:
    """One block of ops applied `count` times in a recorded graph.

    instances  the op outputs of each instance, in recording order (the last may miss ops that
               only fed a next instance)
    shared     leaves that require grad and are read by every instance (a recurrence's weights)
    name       the block's module class ("LSTMCell", "Block") when known, else "block"
    owners     the module path of each instance's parameters ("blocks.0" … "blocks.3"), if named
    where      id(op output) -> (instance, position in it), for every instance
    """

    instances: list[list[Tensor]]
    shared: list[Tensor]
    name: str = "block"
    owners: list[str] = field(default_factory=list)
    where: dict[int, tuple[int, int]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        """How many times the block is applied."""
        return len(self.instances)

    @property
    def period(self) -> int:
        """Ops per instance."""
        return len(self.instances[0])

    @property
    def unit(self) -> str:
        """Time steps when every instance reads the same weights (a recurrence), else layers."""
        return "time steps" if self.shared else "layers"

    @property
    def step(self) -> str:
        """What one instance is called: "step" or "layer"."""
        return "step" if self.shared else "layer"

    @property
    def title(self) -> str:
        """'LSTMCell × 20 time steps', 'Block × 4 layers'."""
        return f"{self.name} × {self.count} {self.unit}"

    @property
    def span(self) -> str:
        """'blocks.0 … blocks.3' (the instances' module paths), 'cell' when they share one, or ''."""
        if not self.owners:
            return ""
        first, last = self.owners[0], self.owners[-1]
        return first if first == last else f"{first} … {last}"

    def representative(self, t: Tensor) -> Tensor:
        """The op output of the first instance that plays t's part (t itself outside the block)."""
        k_q = self.where.get(id(t))
        return t if k_q is None else self.instances[0][k_q[1]]


def _signature(t: Tensor, op_name) -> tuple:
    """What must agree for two ops to play the same part in two instances."""
    node = t.grad_fn
    inputs = tuple(tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__ for x in node.inputs)
    return (op_name(node), tuple(t.shape), t.dtype, inputs)


def _best_run(codes: list, max_period: int = _MAX_PERIOD) -> tuple[int, int, int] | None:
    """(start, period, extent): the stretch codes[start : start + extent] in which every code equals
    the one `period` later, covering the most ops in whole periods; None if nothing repeats.

    For each period p, a stretch of equalities codes[i] == codes[i + p] of length L covers L + p
    codes: one vectorised pass per period. Ties go to the shorter period (the smallest block)."""
    ids = {c: k for k, c in enumerate(dict.fromkeys(codes))}
    a = np.array([ids[c] for c in codes], np.int64)
    best, best_cover = None, 0
    for period in range(1, min(len(a) // 2, max_period) + 1):
        eq = np.concatenate([[0], (a[period:] == a[:-period]).astype(np.int8), [0]])
        edges = np.flatnonzero(np.diff(eq))
        if not len(edges):
            continue
        starts, extents = edges[::2], edges[1::2] - edges[::2] + period
        covers = np.where(extents >= 2 * period, extents // period * period, 0)
        k = int(np.argmax(covers))  # the first of the stretches that cover the most
        if covers[k] > best_cover:
            best, best_cover = (int(starts[k]), period, int(extents[k])), int(covers[k])
    return best


def _crossing(ops: list[Tensor], pos: dict[int, int], uses, a: int, p: int) -> int:
    """How many op outputs of the instance ops[a : a + p] are read by the next instance."""
    return sum(
        any(a + p <= pos.get(id(c), -1) < a + 2 * p for c, _, _ in uses[id(t)]) for t in ops[a : a + p]
    )


def _prefix(names: list[str]) -> str:
    """The module path shared by dotted parameter names: ['blocks.0.ln1.weight', 'blocks.0.attn.qkv.bias']
    -> 'blocks.0' ('' for top-level names such as 'weight_hh')."""
    parts = [n.split(".")[:-1] for n in names]
    common = []
    for level in zip(*parts):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    return ".".join(common)


def find_repeats(g, op_name) -> list[Repeat]:
    """The repeated blocks of the recorded graph g (an explain.RecordedGraph), in recording order.

    op_name: node -> the op's display name (explain.op_name). The block covering the most ops is
    found first, then the stretches before and after it are searched the same way (the two layers
    of a 2-layer LSTM: each its own loop over time). A block counts when it is applied at least
    twice, collapsing it to one instance saves at least MIN_SAVED ops, and its instances make up at
    least a quarter of the graph's ops (less is a coincidence in a large graph, not a structure)."""
    ops = sorted((t for t in g.order if t.grad_fn is not None), key=lambda t: t.grad_fn.seq)
    codes = [_signature(t, op_name) for t in ops]
    pos = {id(t): i for i, t in enumerate(ops)}
    found, todo = [], [(0, len(ops))]
    while todo:
        lo, hi = todo.pop()
        if hi - lo < 2 + MIN_SAVED:
            continue
        span = _block(g, ops, codes, pos, lo, hi)
        if span is None:
            continue
        first, p, count, end = span
        instances = [ops[first + k * p : min(first + (k + 1) * p, end)] for k in range(count)]
        instances = _with_feeders(g, ops, instances, codes, pos)
        found.append(_describe(g, instances))
        for inst in instances:  # ops joined from outside match nothing in the search that follows
            for t in inst:
                codes[pos[id(t)]] = ("claimed", pos[id(t)])
        todo += [(lo, first), (end, hi)]
    return sorted(found, key=lambda r: r.instances[0][0].grad_fn.seq)


def _block(g, ops, codes, pos, lo: int, hi: int) -> tuple[int, int, int, int] | None:
    """(first op, period, count, end) of the best repeated block within ops[lo:hi], or None."""
    run = _best_run(codes[lo:hi])
    if run is None:
        return None
    start, p, extent = run
    start += lo

    def instances_from(first: int) -> tuple[int, int]:
        """Instances starting at ops[first]; a last one cut short counts when the ops it lacks
        only fed a next instance (c_T of an LSTM whose loss reads h_T). (count, end of the last)"""
        n, short = divmod(start + extent - first, p)
        missing = ops[first + short : first + p]
        if short and all(
            t is not g.output
            and g.uses[id(t)]
            and all(first + p <= pos[id(c)] < first + 2 * p for c, _, _ in g.uses[id(t)])
            for t in missing
        ):
            return n + 1, first + n * p + short
        return n, first + n * p

    # where the stretch starts early, the boundary that keeps the most instances, then the one
    # where the least state crosses from one instance into the next
    first = min(
        range(start, start + extent % p + 1),
        key=lambda a: (-instances_from(a)[0], _crossing(ops, pos, g.uses, a, p), a),
    )
    count, end = instances_from(first)
    if count < 2 or p * (count - 1) < MIN_SAVED or p * count * 4 < len(ops):
        return None
    return first, p, count, end


def _with_feeders(g, ops, instances, codes, pos) -> list[list[Tensor]]:
    """The instances with the ops recorded outside them that feed one instance only, when every
    instance has such ops alike (nn.LSTM slices x_t for every step before its loop: each slice
    belongs to its step)."""
    inside = {id(t) for inst in instances for t in inst}
    step = {id(t): k for k, inst in enumerate(instances) for t in inst}
    feeders: list[list[Tensor]] = [[] for _ in instances]
    for t in ops:
        if id(t) in inside or t is g.output or not g.uses[id(t)]:
            continue
        ks = {step.get(id(c)) for c, _, _ in g.uses[id(t)]}
        if len(ks) == 1 and None not in ks:
            feeders[ks.pop()].append(t)
    alike = [[codes[pos[id(t)]] for t in f] for f in feeders]
    if not feeders[0] or any(a != alike[0] for a in alike[1:]):
        return instances
    return [f + inst for f, inst in zip(feeders, instances)]


def _describe(g, instances: list[list[Tensor]]) -> Repeat:
    """The Repeat of these instances: the weights they share, their module's name and paths."""
    where = {id(t): (k, q) for k, inst in enumerate(instances) for q, t in enumerate(inst)}
    reads: list[dict[int, Tensor]] = [{} for _ in instances]  # the leaves each instance reads
    for k, inst in enumerate(instances):
        for t in inst:
            for x in t.grad_fn.inputs:
                if isinstance(x, Tensor) and x.grad_fn is None:
                    reads[k][id(x)] = x
    shared = [x for i, x in reads[0].items() if x.requires_grad and all(i in r for r in reads[1:])]
    # each instance's module path: what the names of the parameters it reads have in common
    owners = []
    for r in reads:
        named = [g.given[i] for i, x in r.items() if x.requires_grad and i in g.given]
        owners.append(_prefix(named) if named else None)
    modules = getattr(g, "modules", {})
    name = modules.get(owners[0], "block") if owners[0] is not None else "block"
    shown = owners if all(o for o in owners) else []
    return Repeat(instances, shared, name, shown, where)

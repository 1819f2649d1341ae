"""Parameters to one flat vector and back, as torch.nn.utils.convert_parameters."""

from __future__ import annotations

from collections.abc import Iterable

from ...autograd import no_grad
from ...ops.shape import cat
from ...tensor import Tensor


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-D Tensor (differentiable, as PyTorch).

    >>> vec = parameters_to_vector(model.parameters())   # shape (total number of entries,)
    """
    vec = []
    for i, p in enumerate(parameters):
        if not isinstance(p, Tensor):
            raise TypeError(f"parameters_to_vector: expected Tensors, but item {i} is a {type(p).__name__}")
        vec.append(p.reshape(-1))
    if not vec:
        raise RuntimeError("parameters_to_vector: expected a non-empty iterable of parameters")
    return cat(vec)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into the parameters (each reshaped to its parameter).

    Unlike PyTorch, which makes each parameter a view of ``vec`` (rebinding ``.data``), the values
    are written into each parameter's own storage, in its dtype, through the in-place path (under
    no_grad, bumping its version): the parameters stay the objects and arrays the model and the
    optimizer hold. Checks the total size before writing anything.

        >>> vector_to_parameters(parameters_to_vector(model.parameters()) * 0.5, model.parameters())
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a microtensor Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"vector_to_parameters: expected Tensors, but item {i} is a {type(p).__name__}")
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != total:
        raise RuntimeError(
            f"vector_to_parameters: vec of shape {vec.shape} does not match the parameters: expected a "
            f"1-D vector of {total} entries (shapes {[p.shape for p in params]})"
        )
    pointer = 0
    with no_grad():
        for p in params:
            n = p.numel()
            p.copy_(vec[pointer : pointer + n].reshape(p.shape))
            pointer += n

"""microtensor: reverse-mode autodiff on NumPy with PyTorch's API.

import microtensor as mt
W = mt.randn(2, 4, requires_grad=True)
loss = (mt.tensor([[0., 1.]]) @ W).tanh().sum()
loss.backward()          # W.grad is a Tensor of W's shape
"""

from . import (
    accelerator,
    autograd,
    backends,
    cuda,
    data,
    distributions,
    linalg,
    nn,
    onnx,
    optim,
    random,
    testing,
    utils,
    viz,
)
from ._determinism import (
    are_deterministic_algorithms_enabled,
    is_deterministic_algorithms_warn_only_enabled,
    use_deterministic_algorithms,
)
from ._dtypes import (
    bool_ as bool,  # noqa: A004 - PyTorch's name
)
from ._dtypes import (
    double,
    finfo,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    iinfo,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    short,
    uint8,
)
from ._dtypes import float32 as float  # noqa: A004 - PyTorch's name
from ._dtypes import int32 as int  # noqa: A004 - PyTorch's name
from ._legacy import (
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
)
from ._tensor_str import set_printoptions
from .autograd import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    is_tensor,
    linspace,
    manual_seed,
    numel,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .device import device, get_default_device, set_default_device
from .explain import explain
from .ops import surface as _surface  # noqa: F401 - in-place variants, Tensor facts, new_*
from .ops.bindings import functions as _functions
from .ops.sort import return_types
from .random import (
    Generator,
    bernoulli,
    default_generator,
    get_rng_state,
    initial_seed,
    multinomial,
    normal,
    poisson,
    randint_like,
    seed,
    set_rng_state,
)
from .serialization import load, save
from .size import Size
from .tensor import Tensor
from .utils.dlpack import from_dlpack

globals().update(_functions())  # add, exp, sum, reshape, ...: the table in ops/bindings.py
globals().update(_surface.functions())  # detach, is_nonzero, exp_, ...: Tensor methods as functions

__version__ = "0.1.0"

__all__ = [name for name in dir() if not name.startswith("_")]

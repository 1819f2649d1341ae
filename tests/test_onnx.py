"""mt.onnx.export: the traced graph as an ONNX model that onnx.checker accepts and onnxruntime
runs with microtensor's outputs (1e-5 in float32), for fixed and dynamic batch sizes."""

import io

import numpy as np
import pytest

import microtensor as mt
import microtensor.nn as nn
import microtensor.nn.functional as F

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def export_and_load(model, inputs, tmp_path, **kwargs):
    path = tmp_path / "model.onnx"
    mt.onnx.export(model, inputs, path, **kwargs)
    proto = onnx.load(path)
    onnx.checker.check_model(proto, full_check=True)  # full_check: with strict shape inference
    return proto, ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def reference(model, *xs):
    model.eval()
    with mt.no_grad():
        out = model(*[mt.from_numpy(x) for x in xs])
    return out.numpy()


def assert_runs_like_microtensor(model, example, tmp_path, batches=(), **kwargs):
    proto, session = export_and_load(model, example, tmp_path, **kwargs)
    names = [i.name for i in session.get_inputs()]
    arrays = [x.numpy() for x in example]
    rng = np.random.default_rng(5)
    runs = [arrays] + [
        [rng.standard_normal((n, *a.shape[1:])).astype(a.dtype) for a in arrays] for n in batches
    ]
    for xs in runs:
        got = session.run(None, dict(zip(names, xs)))[0]
        want = reference(model, *xs)
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    return proto


def test_xor_network_exports_and_runs_in_onnxruntime(tmp_path):
    mt.manual_seed(2)
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid())
    opt = mt.optim.SGD(model.parameters(), lr=0.5, momentum=0.4)
    x = mt.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = mt.tensor([[0.0], [1.0], [1.0], [0.0]])
    for _ in range(300):
        opt.zero_grad()
        F.binary_cross_entropy(model(x), y).backward()
        opt.step()
    proto = assert_runs_like_microtensor(
        model, (x,), tmp_path, input_names=["x"], output_names=["p"], dynamic_axes={"x": [0], "p": [0]}
    )
    assert [n.op_type for n in proto.graph.node] == ["Gemm", "Tanh", "Gemm", "Sigmoid", "Identity"]
    assert sorted(i.name for i in proto.graph.initializer) == ["0.bias", "0.weight", "2.bias", "2.weight"]
    _, session = export_and_load(model, (x,), tmp_path, input_names=["x"], output_names=["p"])
    truth = session.run(None, {"x": x.numpy()})[0]
    assert (truth.round().ravel() == [0, 1, 1, 0]).all()


def test_mnist_mlp_exports_with_a_dynamic_batch(tmp_path):
    mt.manual_seed(0)
    model = nn.Sequential(
        nn.Flatten(), nn.Linear(784, 1000), nn.ReLU(), nn.Linear(1000, 10), nn.LogSoftmax(dim=1)
    )
    example = mt.rand(8, 1, 28, 28)
    proto = assert_runs_like_microtensor(
        model,
        (example,),
        tmp_path,
        batches=(1, 3, 64),
        input_names=["image"],
        output_names=["log_probs"],
        dynamic_axes={"image": {0: "batch"}, "log_probs": {0: "batch"}},
    )
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["batch", 1, 28, 28]


class Elementwise(nn.Module):
    """Every elementwise op, with tensor and Python-scalar operands."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(mt.tensor([0.5, -1.5, 2.0]))

    def forward(self, x):
        a = (x * self.scale + 1.0) / (self.scale.abs() + 2) - x
        b = (a.abs() + 1).log() + (-a).exp() + (x * x + 0.5).sqrt() - x**2
        c = mt.maximum(a, b) * mt.minimum(a, 0.25 * b) + mt.clamp(b, -0.5, 0.75) + b.clamp(min=0.1)
        d = (c / 3 - 2 * c + (1 - c)).tanh().sigmoid() + c.relu()
        return d.double() * 2


class Shapes(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(mt.randn(3, 5))

    def forward(self, x):  # x: (n, 2, 3)
        y = (x @ self.w).permute(0, 2, 1)  # (n, 5, 2)
        z = mt.cat([y, y * 2], dim=2).reshape(x.shape[0], 20).transpose(0, 1).transpose(0, 1)
        s = mt.stack([z, -z], dim=1).sum(dim=1) + z.mean(dim=-1, keepdim=True) + z.sum()
        return s.unsqueeze(1).squeeze(1) + self.w.sum(dim=0).mean()


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.Sequential(nn.Linear(3, 4), nn.ReLU()),
        lambda: nn.Sequential(nn.Linear(3, 4), nn.Tanh()),
        lambda: nn.Sequential(nn.Linear(3, 4), nn.Sigmoid()),
        lambda: nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.2)),
        lambda: nn.Sequential(nn.Linear(3, 4), nn.Softmax(dim=1)),
        lambda: nn.Sequential(nn.Linear(3, 4), nn.LogSoftmax(dim=-1)),
        lambda: nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Identity()),
        lambda: nn.Sequential(nn.Linear(3, 4, bias=False)),
        lambda: Elementwise(),
    ],
    ids=[
        "relu",
        "tanh",
        "sigmoid",
        "leaky_relu",
        "softmax",
        "log_softmax",
        "dropout",
        "no-bias",
        "elementwise",
    ],
)
def test_layers_activations_and_elementwise_ops(tmp_path, make):
    mt.manual_seed(1)
    assert_runs_like_microtensor(
        make(),
        (mt.randn(5, 3),),
        tmp_path,
        batches=(2, 9),
        dynamic_axes={"input": {0: "n"}, "output": {0: "n"}},
    )


def test_shape_ops_reductions_and_3d_linear(tmp_path):
    mt.manual_seed(3)
    assert_runs_like_microtensor(Shapes(), (mt.randn(4, 2, 3),), tmp_path)
    model = nn.Sequential(nn.Flatten(0, 1), nn.Linear(3, 2))
    assert_runs_like_microtensor(model, (mt.randn(4, 2, 3),), tmp_path)
    model = nn.Sequential(nn.Linear(3, 2), nn.Softmax(dim=-1))  # a batch of sequences: MatMul, not Gemm
    proto = assert_runs_like_microtensor(
        model, (mt.randn(4, 6, 3),), tmp_path, batches=(1, 7), dynamic_axes={"input": [0], "output": [0]}
    )
    assert "MatMul" in [n.op_type for n in proto.graph.node]


class TwoInputs(nn.Module):
    def forward(self, x, keep):
        return mt.where(keep, x * 2, x - 1)


def test_where_on_an_input_condition_and_several_inputs(tmp_path):
    x = mt.randn(3, 4)
    keep = x > 0
    _, session = export_and_load(TwoInputs(), (x, keep), tmp_path, input_names=["x", "keep"])
    other = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    mask = other < 0.3
    got = session.run(None, {"x": other, "keep": mask})[0]
    np.testing.assert_array_equal(got, np.where(mask, other * 2, other - 1))


class Indexes(nn.Module):
    def forward(self, x):
        return x[[0, 1]] * 2  # an integer-array index (basic indexing is exported)


class Cumulative(nn.Module):
    def forward(self, x):
        return x.cumsum(1)


class FunctionalLeaky(nn.Module):
    def forward(self, x):
        return F.leaky_relu(x, 0.1)


def test_an_op_without_export_raises_naming_it(tmp_path):
    with pytest.raises(mt.onnx.UnsupportedOperatorError, match=r"Cumsum \(cumsum\) has no ONNX export"):
        mt.onnx.export(Cumulative(), (mt.randn(2, 3),), tmp_path / "m.onnx")
    with pytest.raises(mt.onnx.UnsupportedOperatorError, match=r"GetItem cannot be exported.*basic indexing"):
        mt.onnx.export(Indexes(), (mt.randn(2, 3),), tmp_path / "m.onnx")
    with pytest.raises(mt.onnx.UnsupportedOperatorError, match=r"Where cannot be exported.*condition"):
        mt.onnx.export(FunctionalLeaky(), (mt.randn(2, 3),), tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_export_leaves_the_model_unchanged_and_writes_file_objects(tmp_path):
    mt.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 2))
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    buf = io.BytesIO()
    mt.onnx.export(model, mt.randn(2, 3), buf)
    assert model.training and all(p.grad is None for p in model.parameters())
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])
    proto = onnx.load_from_string(buf.getvalue())
    assert [n.op_type for n in proto.graph.node] == ["Gemm", "Gemm", "Identity"]  # dropout: eval


def test_bad_arguments_are_clear_errors(tmp_path):
    model = nn.Sequential(nn.Linear(3, 2))
    x = mt.randn(2, 3)
    with pytest.raises(ValueError, match=r"dynamic_axes names \['y'\]"):
        mt.onnx.export(model, (x,), tmp_path / "m.onnx", dynamic_axes={"y": [0]})
    with pytest.raises(ValueError, match=r"axis 2.*shape \(2, 3\)"):
        mt.onnx.export(model, (x,), tmp_path / "m.onnx", dynamic_axes={"input": [2]})
    with pytest.raises(ValueError, match="input_names"):
        mt.onnx.export(model, (x,), tmp_path / "m.onnx", input_names=["a", "b"])
    with pytest.raises(TypeError, match="example input 0"):
        mt.onnx.export(model, (x.numpy(),), tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="opset_version"):
        mt.onnx.export(model, (x,), tmp_path / "m.onnx", opset_version=9)

    class Constant(nn.Module):
        def forward(self, x):
            return mt.ones(2)

    with pytest.raises(ValueError, match="does not depend on the inputs"):
        mt.onnx.export(Constant(), (x,), tmp_path / "m.onnx")


def test_the_export_table_names_registered_ops_and_exported_modules():
    # A renamed op class must fail here rather than silently lose its export.
    import pkgutil

    from microtensor.onnx._table import MODULES, OPS
    from microtensor.ops.base import REGISTRY

    for info in pkgutil.walk_packages(mt.__path__, "microtensor."):  # ops register on import
        __import__(info.name)
    assert sorted(set(OPS) - set(REGISTRY)) == []
    assert sorted(set(MODULES) - set(dir(nn))) == []


def test_a_model_that_cannot_be_copied_is_a_clear_error(tmp_path):
    import threading

    model = nn.Sequential(nn.Linear(3, 2))
    model.lock = threading.Lock()  # not deep-copyable
    with pytest.raises(TypeError, match="deep-copyable.*Sequential"):
        mt.onnx.export(model, (mt.randn(2, 3),), tmp_path / "m.onnx")


# ------------------------------------------------------------- vision layers (issue 14)
def test_cnn_exports_and_runs_in_onnxruntime(tmp_path):
    """Conv (stride, padding, dilation, groups), BatchNorm in eval mode, max pooling (ceil_mode),
    adaptive average pooling and bilinear upsampling, against microtensor's own outputs."""
    mt.manual_seed(3)
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 8, 3, stride=2, dilation=1, groups=2, padding=(1, 0)), nn.ReLU(),
        nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
        nn.Upsample(scale_factor=2, mode="bilinear"), nn.AdaptiveAvgPool2d((3, 2)),
        nn.Flatten(), nn.Linear(48, 10), nn.LogSoftmax(dim=1),
    )  # fmt: skip
    model.train()
    for _ in range(2):  # running statistics that are not the initial ones
        model(mt.randn(4, 1, 14, 14))
    model.eval()
    proto = assert_runs_like_microtensor(model, (mt.randn(2, 1, 14, 14),), tmp_path)
    ops = [n.op_type for n in proto.graph.node]
    assert ops.count("Conv") == 2 and "MaxPool" in ops


def test_conv1d_and_max_pool1d_export(tmp_path):
    mt.manual_seed(4)
    model = nn.Sequential(nn.Conv1d(2, 4, 3, padding=2, dilation=2), nn.ReLU(), nn.MaxPool1d(2), nn.Flatten())
    assert_runs_like_microtensor(model, (mt.randn(3, 2, 10),), tmp_path)


AVG_POOLS = {
    "plain": lambda: nn.AvgPool2d(2),
    "stride_padding": lambda: nn.AvgPool2d(3, stride=2, padding=1),
    "exclude_pad": lambda: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
    "ceil_mode": lambda: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True),
    "ceil_exclude_pad": lambda: nn.AvgPool2d((3, 2), stride=(2, 3), padding=(1, 1), ceil_mode=True,
                                             count_include_pad=False),
    "divisor_override": lambda: nn.AvgPool2d(2, padding=1, divisor_override=3),
    "1d": lambda: nn.AvgPool1d(3, stride=2, padding=1, ceil_mode=True),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(AVG_POOLS))
def test_avg_pool_exports_with_pytorchs_divisors(tmp_path, name):
    """The divisors at padded and ceil_mode edges are PyTorch's (checked against microtensor's, which
    the op table checks against torch)."""
    mt.manual_seed(6)
    pool = AVG_POOLS[name]()
    example = mt.randn(2, 3, 7) if name == "1d" else mt.randn(2, 3, 7, 8)
    proto = assert_runs_like_microtensor(nn.Sequential(pool, nn.Tanh()), (example,), tmp_path)
    assert "AveragePool" in [n.op_type for n in proto.graph.node]


def test_cnn_with_batch_norm_and_avg_pool_matches_onnxruntime(tmp_path):
    """conv → BatchNorm2d (eval: running statistics) → ReLU → AvgPool2d → Linear, trained a few steps."""
    mt.manual_seed(7)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(4 * 16, 3),
    )  # fmt: skip
    opt = mt.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        F.cross_entropy(model(mt.randn(8, 1, 8, 8)), mt.tensor([0, 1, 2, 0, 1, 2, 0, 1])).backward()
        opt.step()
    model.eval()
    assert_runs_like_microtensor(model, (mt.randn(2, 1, 8, 8),), tmp_path)


def test_a_vision_op_without_export_raises_naming_it(tmp_path):
    with pytest.raises(mt.onnx.UnsupportedOperatorError, match="AdaptiveMaxPool"):
        mt.onnx.export(nn.AdaptiveMaxPool2d(2), (mt.randn(1, 1, 4, 4),), tmp_path / "m.onnx")


# ------------------------------------------------ issue 13: activations and padding
class _Pad(nn.Module):
    def __init__(self, pad, mode, value=None):
        super().__init__()
        self.pad, self.mode, self.value = pad, mode, value

    def forward(self, x):
        return F.pad(x, self.pad, self.mode, self.value) * 1.5


ACTIVATIONS_13 = {
    "gelu": lambda: nn.GELU(), "gelu_tanh": lambda: nn.GELU("tanh"), "silu": lambda: nn.SiLU(),
    "mish": lambda: nn.Mish(), "elu": lambda: nn.ELU(0.7), "selu": lambda: nn.SELU(),
    "celu": lambda: nn.CELU(2.0), "hardtanh": lambda: nn.Hardtanh(-0.5, 0.8), "relu6": lambda: nn.ReLU6(),
    "hardsigmoid": lambda: nn.Hardsigmoid(), "hardswish": lambda: nn.Hardswish(),
    "softplus": lambda: nn.Softplus(), "softplus_beta": lambda: nn.Softplus(2.0, 1.0),
    "softsign": lambda: nn.Softsign(), "logsigmoid": lambda: nn.LogSigmoid(),
    "tanhshrink": lambda: nn.Tanhshrink(),
    "softshrink": lambda: nn.Softshrink(0.3), "hardshrink": lambda: nn.Hardshrink(0.3),
    "threshold": lambda: nn.Threshold(0.1, -2.0), "softmin": lambda: nn.Softmin(1),
    "prelu": lambda: nn.PReLU(4, 0.1), "prelu_one": lambda: nn.PReLU(),
    "rrelu_eval": lambda: nn.RReLU(0.1, 0.3),
    "glu": lambda: nn.GLU(1),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(ACTIVATIONS_13))
def test_issue13_activations_export_and_run_in_onnxruntime(tmp_path, name):
    mt.manual_seed(4)
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 4), ACTIVATIONS_13[name]())
    with mt.no_grad():
        model[0].weight.mul_(3.0)  # spread the pre-activations over the kinks and tails
    assert_runs_like_microtensor(
        model, (mt.randn(6, 3),), tmp_path, batches=(2, 11), dynamic_axes={"input": [0], "output": [0]}
    )


@pytest.mark.parametrize(
    "make",
    [lambda: _Pad((1, 2), "constant", 0.5), lambda: _Pad((2, -1, 0, 1), "constant"),
     lambda: nn.ZeroPad2d((1, 0, 2, 1)),
     lambda: nn.ReflectionPad2d((2, 1, 1, 2)), lambda: nn.ReplicationPad2d((3, 1, 0, 2)),
     lambda: nn.CircularPad2d(1),
     lambda: nn.Softmax2d()],
)  # fmt: skip
def test_issue13_padding_exports_and_runs_in_onnxruntime(tmp_path, make):
    assert_runs_like_microtensor(
        make(),
        (mt.randn(2, 3, 4, 5),),
        tmp_path,
        batches=(1, 3),
        dynamic_axes={"input": [0], "output": [0]},
    )


def test_issue13_training_only_ops_raise_naming_the_op(tmp_path):
    class Train(nn.Module):
        def forward(self, x):
            return F.rrelu(x, training=True)

    with pytest.raises(mt.onnx.UnsupportedOperatorError, match=r"Rrelu \(rrelu\) has no ONNX export"):
        mt.onnx.export(Train(), (mt.randn(2, 3),), tmp_path / "m.onnx")


# ------------------------------------------------------------- math and linear algebra (issue 12)
class MathOp(nn.Module):
    """fn(x) on an input in (-3, 3): fn maps it into the function's domain with exported ops."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn
        self.w = nn.Parameter(mt.randn(4, 3))

    def forward(self, x):
        return self.fn(x, self.w)


MATH_12 = {
    "sin_cos_tan": lambda x, w: mt.sin(x) + mt.cos(x) * mt.tan(x * 0.4),
    "asin_acos_atan": lambda x, w: mt.asin(x * 0.3) + mt.acos(x * 0.3) + mt.atan(x),
    "hyperbolic": lambda x, w: mt.sinh(x) + mt.cosh(x) - mt.tanh(x),
    "inverse_hyperbolic": lambda x, w: mt.asinh(x) + mt.acosh(x.abs() + 1.1) + mt.atanh(x * 0.3),
    "erf_erfc": lambda x, w: mt.erf(x) - 2 * mt.erfc(x * 0.5),
    "floor_ceil_trunc_frac": lambda x, w: (
        (x * 3).floor() + (x * 3).ceil() * 2 + (x * 3).trunc() * 4 + (x * 3).frac()
    ),
    "round": lambda x, w: (x * 5).round() + x.round(decimals=2) * 10 + (x * 40).round(decimals=-1),
    "sign_sgn": lambda x, w: x.sign() + x.sgn() * 2,
    "reciprocal_rsqrt_square": lambda x, w: (
        (x.abs() + 0.5).reciprocal() + (x.abs() + 0.5).rsqrt() + x.square()
    ),
    "exp2_expm1": lambda x, w: mt.exp2(x) + mt.expm1(x),
    "log2_log10_log1p": lambda x, w: mt.log2(x.abs() + 0.1) + mt.log10(x.abs() + 0.1) + mt.log1p(x.abs()),
    "deg2rad_rad2deg": lambda x, w: mt.deg2rad(x) + mt.rad2deg(x) * 0.01,
    "hypot": lambda x, w: mt.hypot(x, (x * 0.7 + 0.2)),
    "fmod": lambda x, w: mt.fmod(x * 3, 1.25) + mt.fmod(x * 3, -0.75),
    "remainder": lambda x, w: (
        (x * 3) % 1.25 + mt.remainder(x * 3, -0.75) + mt.remainder(x, (x * 0.7 + 0.2).abs() + 0.5)
    ),
    "div_rounding": lambda x, w: (
        mt.div(x * 3, 0.7, rounding_mode="floor") + (x * 3).div(-0.7, rounding_mode="trunc")
    ),
    "lerp": lambda x, w: (
        mt.lerp(x, (x * 0.7 + 0.2), 0.3) + mt.lerp(x, x * 2, 0.8) + x.lerp(-x, mt.sigmoid(x))
    ),
    "logit": lambda x, w: mt.logit(mt.sigmoid(x)) + mt.logit(mt.sigmoid(x * 3), eps=0.05),
    "einsum": lambda x, w: mt.einsum("ni,ij->nj", x @ w.T, w) + mt.einsum("ij->i", w).sum(),
    "einsum_batched": lambda x, w: mt.einsum("bi,bj->bij", x, x).sum(-1) + mt.einsum("ii", w[:3]),
}


@pytest.mark.parametrize("name", sorted(MATH_12))
def test_issue12_math_exports_and_runs_in_onnxruntime(tmp_path, name):
    mt.manual_seed(12)
    x = mt.rand(6, 3) * 6 - 3
    assert_runs_like_microtensor(
        MathOp(MATH_12[name]), (x,), tmp_path, batches=(2, 9), dynamic_axes={"input": [0]}
    )


MATH_12_MORE = {
    "atan2": lambda x, w: mt.atan2(x, x * 0.7 - 0.4) + mt.atan2(x, x * 0) + mt.atan2(2.0, x),
    "logaddexp": lambda x, w: mt.logaddexp(x, x * 3 - 1) + mt.logaddexp2(x * 5, -x),
    "xlogy": lambda x, w: mt.xlogy(mt.relu(x), x.abs() + 0.5),
    "sinc": lambda x, w: mt.sinc(x) + mt.sinc(mt.relu(x) * 0),
    "nan_to_num": lambda x, w: mt.nan_to_num(mt.log(x)) + mt.nan_to_num(1 / mt.relu(x), posinf=7.0),
}


@pytest.mark.parametrize("name", sorted(MATH_12_MORE))
def test_issue12_math_without_an_onnx_op_exports_as_formulas(tmp_path, name):
    mt.manual_seed(13)
    x = mt.rand(6, 3) * 6 - 3
    x[0, 0] = 0.0  # the special points: atan2 on the axes, sinc at 0, xlogy at 0, log(0), 1/0
    model = MathOp(MATH_12_MORE[name])
    assert_runs_like_microtensor(model, (x,), tmp_path, batches=(4,), dynamic_axes={"input": [0]})

"""Probability distributions for sampling and scoring, as torch.distributions.

    import microtensor.distributions as D
    d = D.Categorical(logits=policy(state))
    a = d.sample()                   # PyTorch's numbers after the same manual_seed
    loss = -(d.log_prob(a) * ret)    # differentiable in the logits
    D.kl_divergence(D.Normal(mu, sigma), D.Normal(0.0, 1.0))

Each distribution lives in the module PyTorch names it after (normal.py,
categorical.py, ...). Samples draw from microtensor's generator with PyTorch's
constructions (normal, multinomial, bernoulli, rand, normal_, exponential_,
cauchy_, uniform_), so seeded programs draw the same numbers as on PyTorch; where
a draw then passes through log/log1p or a matrix product (Laplace, Gumbel, the
relaxed distributions, MultivariateNormal) the result can differ in the last bit,
since PyTorch's kernels round those their own way.
"""

from . import constraints, kl, transforms
from .bernoulli import Bernoulli
from .categorical import Categorical
from .cauchy import Cauchy
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .geometric import Geometric
from .gumbel import Gumbel
from .half_normal import HalfNormal
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .log_normal import LogNormal
from .mixture_same_family import MixtureSameFamily
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from .relaxed_bernoulli import RelaxedBernoulli
from .relaxed_categorical import RelaxedOneHotCategorical
from .transformed_distribution import TransformedDistribution
from .transforms import (
    AbsTransform,
    AffineTransform,
    ComposeTransform,
    ExpTransform,
    IndependentTransform,
    SigmoidTransform,
    TanhTransform,
    Transform,
    identity_transform,
)
from .uniform import Uniform

__all__ = [
    "AbsTransform",
    "AffineTransform",
    "Bernoulli",
    "Categorical",
    "Cauchy",
    "ComposeTransform",
    "Distribution",
    "ExpTransform",
    "Exponential",
    "ExponentialFamily",
    "Geometric",
    "Gumbel",
    "HalfNormal",
    "Independent",
    "IndependentTransform",
    "Laplace",
    "LogNormal",
    "MixtureSameFamily",
    "MultivariateNormal",
    "Normal",
    "OneHotCategorical",
    "OneHotCategoricalStraightThrough",
    "RelaxedBernoulli",
    "RelaxedOneHotCategorical",
    "SigmoidTransform",
    "TanhTransform",
    "Transform",
    "TransformedDistribution",
    "Uniform",
    "constraints",
    "identity_transform",
    "kl",
    "kl_divergence",
    "register_kl",
    "transforms",
]

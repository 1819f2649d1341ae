"""The layers' old home: they now live where PyTorch keeps them (linear.py, activation.py,
flatten.py, dropout.py); this module re-exports them so `microtensor.nn.layers.X` keeps working."""

from .activation import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .dropout import Dropout
from .flatten import Flatten
from .linear import Identity, Linear

__all__ = [
    "Dropout",
    "Flatten",
    "Identity",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
]

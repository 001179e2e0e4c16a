"""micrograd.nn: a small neural-net library built on the micrograd engine (the folder nn/).

Modules (Neuron, Layer, MLP, Sequential; Conv2d, MaxPool2d, AvgPool2d, Flatten and the
activations as modules), functions and losses (nn.functional, also
importable from nn), optimizers and schedules (nn.optim), toy data sets (nn.data),
training (fit, accuracy), JSON save/load (nn.serialize) and the PyTorch bridge.
"""

from . import data, functional, optim
from .activations import ACTIVATIONS, LeakyReLU, ReLU, Sigmoid, Tanh
from .conv import AvgPool2d, Conv2d, Flatten, MaxPool2d
from .dense import MLP, Layer, Neuron, Sequential
from .functional import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_loss,
    l1_penalty,
    l2_penalty,
    log_softmax,
    mse_loss,
    softmax,
)
from .init import INITS
from .module import Module, from_config
from .serialize import load
from .torch_bridge import to_torch
from .torch_import import from_torch
from .train import accuracy, fit, train_step

__all__ = [
    "ACTIVATIONS",
    "AvgPool2d",
    "Conv2d",
    "Flatten",
    "MaxPool2d",
    "INITS",
    "LeakyReLU",
    "ReLU",
    "Sigmoid",
    "Tanh",
    "MLP",
    "Layer",
    "Module",
    "Neuron",
    "Sequential",
    "accuracy",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "data",
    "fit",
    "from_config",
    "from_torch",
    "functional",
    "hinge_loss",
    "l1_penalty",
    "l2_penalty",
    "load",
    "log_softmax",
    "mse_loss",
    "optim",
    "softmax",
    "to_torch",
    "train_step",
]

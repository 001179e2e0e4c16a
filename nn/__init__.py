"""nn: a small neural-net library built on the micrograd engine."""

from . import data, functional, optim
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
from .module import ACTIVATIONS, INITS, MLP, Layer, Module, Neuron, Sequential, from_config
from .serialize import load
from .train import accuracy, fit, train_step

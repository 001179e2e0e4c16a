"""Activations: by name (``ACTIVATIONS``, as Neuron and Layer take them), and as modules (ReLU,
Tanh, Sigmoid, LeakyReLU, as torch.nn names them) that apply to every number of whatever they
are given: a list, or the channels of an image."""

from __future__ import annotations

import reprlib
from collections.abc import Callable

from micrograd import Value

from .module import Module


def _linear(x: Value) -> Value:
    return x


ACTIVATIONS: dict[str, Callable[[Value], Value]] = {
    "relu": Value.relu,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "leaky_relu": Value.leaky_relu,  # negative slope 0.01, PyTorch's default
    "linear": _linear,  # a named function, not a lambda, so models can be pickled and copied
}


def _check_activation(owner: str, activation: str) -> str:
    if activation not in ACTIVATIONS:
        known = ", ".join(repr(name) for name in ACTIVATIONS)
        raise ValueError(f"{owner}: unknown activation {activation!r}; expected one of {known}")
    return activation


def _apply(function: Callable, x, owner: str):
    """function on every number of x, keeping x's nesting (a list, channels of rows; a numpy
    array as its nested lists, as the layers take it)."""
    if getattr(x, "ndim", 0) > 0 and hasattr(x, "tolist"):
        x = x.tolist()
    if isinstance(x, (list, tuple)):
        return [_apply(function, item, owner) for item in x]
    if isinstance(x, Value):
        return function(x)
    try:
        number = Value(x)
    except TypeError:
        raise TypeError(
            f"{owner}: expected numbers or Values (a list of them, or channels of rows), got "
            f"{reprlib.repr(x)}"
        ) from None
    return function(number)


class Activation(Module):
    """One activation, applied number by number: output[...] = f(x[...])."""

    name = "linear"

    def __call__(self, x):
        return _apply(ACTIVATIONS[self.name], x, type(self).__name__)

    def config(self) -> dict:
        """The constructor arguments, for saving (see nn.serialize)."""
        return {"type": type(self).__name__}

    @classmethod
    def from_fields(cls, fields: dict) -> Module:
        return cls(**fields)

    @classmethod
    def parameter_count(cls, config: dict) -> int | None:
        return 0

    def _summary(self) -> str:
        return f"{type(self).__name__}()"


class ReLU(Activation):
    """relu(x) = max(x, 0), number by number."""

    name = "relu"


class Tanh(Activation):
    """tanh(x), number by number."""

    name = "tanh"


class Sigmoid(Activation):
    """sigmoid(x) = 1 / (1 + exp(-x)), number by number."""

    name = "sigmoid"


class LeakyReLU(Activation):
    """x if x > 0 else 0.01 * x, number by number (PyTorch's default slope, the only one)."""

    name = "leaky_relu"


MODULES: dict[str, type[Activation]] = {cls.name: cls for cls in (ReLU, Tanh, Sigmoid, LeakyReLU)}
"""The activation modules by the names ACTIVATIONS uses (all but "linear")."""

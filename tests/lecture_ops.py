"""Ops added the way karpathy's lecture adds them: the forward by hand, Value(data, children,
op), then a _backward closure that adds to the inputs' grads. Shared by the tests of the
lecture's way (karpathy_compat), of checking such a node (testing) and of drawing it."""

from __future__ import annotations

import math

from micrograd import Value


def lecture_tanh(x: Value, factor: float = 1.0) -> Value:
    """tanh as the lecture writes it; a factor other than 1 makes its closure wrong."""
    t = (math.exp(2 * x.data) - 1) / (math.exp(2 * x.data) + 1)
    out = Value(t, (x,), "tanh")

    def _backward():
        x.grad += factor * (1 - t**2) * out.grad

    out._backward = _backward
    return out


def lecture_exp(x: Value) -> Value:
    out = Value(math.exp(x.data), (x,), "exp")

    def _backward():
        x.grad += out.data * out.grad

    out._backward = _backward
    return out


def lecture_plus(a: Value, b: Value) -> Value:
    out = Value(a.data + b.data, (a, b), "+")

    def _backward():
        a.grad += out.grad
        b.grad += out.grad

    out._backward = _backward
    return out


def lecture_times(a: Value, b: Value) -> Value:
    out = Value(a.data * b.data, (a, b), "*")

    def _backward():
        a.grad += b.data * out.grad
        b.grad += a.data * out.grad

    out._backward = _backward
    return out

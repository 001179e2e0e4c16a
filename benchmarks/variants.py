"""The demo step written for PyTorch and numpy, to compare the scalar engines against.

Each variant is built from the same data and initial weights as the scalar engines,
and offers ``check() -> (loss, gradients in parameters() order)`` at those weights and
``time(steps, gc_on) -> seconds per step`` from them.
"""

from __future__ import annotations

import gc
import time

import numpy as np
import torch

from .workload import ALPHA, ScalarMLP, Weights, demo_loss


def _backward_and_sgd(loss: torch.Tensor, params: list, lr: float, update: bool) -> None:
    """Fresh gradients of loss for params, then (if update) one plain SGD step."""
    for p in params:
        p.grad = None
    loss.backward()
    if update:
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad


def _timed(step, steps: int, gc_on: bool) -> float:
    """Seconds per call of step(), the collector left on or disabled while timing; as in
    benchmarks.worker, after a collection and one untimed step."""
    gc.collect()
    (gc.enable if gc_on else gc.disable)()
    try:
        step()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        return (time.perf_counter() - start) / steps
    finally:
        gc.enable()
        gc.collect()


def as_arrays(weights: Weights) -> list[np.ndarray]:
    """[W1, b1, W2, b2, ...] with W[k, j] the weight from input k to neuron j."""
    arrays = []
    for layer in weights:
        arrays.append(np.array([w for w, _ in layer], dtype=np.float64).T.copy())
        arrays.append(np.array([b for _, b in layer], dtype=np.float64))
    return arrays


def flat_arrays(grads: list[np.ndarray]) -> list[float]:
    """Array gradients in parameters() order: per neuron, its column of W, then its b."""
    return [
        x
        for W, b in zip(grads[::2], grads[1::2])
        for j in range(W.shape[1])
        for x in (*W[:, j].tolist(), float(b[j]))
    ]


class TorchScalars:
    """PyTorch with one 0-d float64 tensor per scalar, in the same per-sample loop."""

    def __init__(self, X: list, y: list, weights: Weights, lr: float) -> None:
        self.X, self.y, self.weights, self.lr = X, y, weights, lr

    @staticmethod
    def leaf(x: float) -> torch.Tensor:
        return torch.tensor(x, dtype=torch.float64, requires_grad=True)

    @staticmethod
    def constant(x: float) -> torch.Tensor:
        return torch.tensor(x, dtype=torch.float64)

    def _step(self, model: ScalarMLP, update: bool) -> torch.Tensor:
        params = model.parameters()
        loss = demo_loss(model, params, self.constant, self.X, self.y)
        _backward_and_sgd(loss, params, self.lr, update)
        return loss

    def check(self) -> tuple[float, list[float]]:
        model = ScalarMLP(self.weights, self.leaf)
        loss = self._step(model, update=False)
        return loss.item(), [p.grad.item() for p in model.parameters()]

    def time(self, steps: int, gc_on: bool) -> float:
        model = ScalarMLP(self.weights, self.leaf)
        return _timed(lambda: self._step(model, update=True), steps, gc_on)


class TorchBatch:
    """PyTorch on the whole batch at once, float64: three matrix products."""

    def __init__(self, X: list, y: list, weights: Weights, lr: float) -> None:
        self.X = torch.tensor(X, dtype=torch.float64)
        self.y = torch.tensor(y, dtype=torch.float64)
        self.weights, self.lr = weights, lr

    def _params(self) -> list[torch.Tensor]:
        return [torch.tensor(a, requires_grad=True) for a in as_arrays(self.weights)]

    def _step(self, params: list[torch.Tensor], update: bool) -> torch.Tensor:
        h = self.X
        for depth in range(0, len(params), 2):
            h = h @ params[depth] + params[depth + 1]
            if depth + 2 < len(params):
                h = h.relu()
        losses = (1 - self.y * h[:, 0]).relu()
        loss = losses.sum() * (1.0 / len(losses)) + ALPHA * sum((p * p).sum() for p in params)
        _backward_and_sgd(loss, params, self.lr, update)
        return loss

    def check(self) -> tuple[float, list[float]]:
        params = self._params()
        loss = self._step(params, update=False)
        return loss.item(), flat_arrays([p.grad.numpy() for p in params])

    def time(self, steps: int, gc_on: bool) -> float:
        params = self._params()
        return _timed(lambda: self._step(params, update=True), steps, gc_on)


class Numpy:
    """The forward and backward passes written out by hand with numpy."""

    def __init__(self, X: list, y: list, weights: Weights, lr: float) -> None:
        self.X, self.y = np.array(X, dtype=np.float64), np.array(y, dtype=np.float64)
        self.weights, self.lr = weights, lr

    def _step(self, params: list[np.ndarray], update: bool) -> tuple[float, list[np.ndarray]]:
        W1, b1, W2, b2, W3, b3 = params
        X, y, n = self.X, self.y, len(self.y)
        z1 = X @ W1 + b1
        h1 = np.maximum(z1, 0.0)
        z2 = h1 @ W2 + b2
        h2 = np.maximum(z2, 0.0)
        score = (h2 @ W3 + b3)[:, 0]
        margin = 1.0 - y * score
        loss = np.maximum(margin, 0.0).sum() * (1.0 / n)
        loss += ALPHA * sum(float((p * p).sum()) for p in params)
        # backward: d loss / d score, then back through the layers
        d_score = np.where(margin > 0, -y, 0.0) * (1.0 / n)
        d_z3 = d_score[:, None]
        d_h2 = d_z3 @ W3.T
        d_z2 = np.where(z2 > 0, d_h2, 0.0)
        d_h1 = d_z2 @ W2.T
        d_z1 = np.where(z1 > 0, d_h1, 0.0)
        grads = [
            X.T @ d_z1,
            d_z1.sum(0),
            h1.T @ d_z2,
            d_z2.sum(0),
            h2.T @ d_z3,
            d_z3.sum(0),
        ]
        grads = [g + 2 * ALPHA * p for g, p in zip(grads, params)]
        if update:
            for p, g in zip(params, grads):
                p -= self.lr * g
        return float(loss), grads

    def check(self) -> tuple[float, list[float]]:
        loss, grads = self._step(as_arrays(self.weights), update=False)
        return loss, flat_arrays(grads)

    def time(self, steps: int, gc_on: bool) -> float:
        params = as_arrays(self.weights)
        return _timed(lambda: self._step(params, update=True), steps, gc_on)


class PythonFloats:
    """The forward and backward passes written out by hand on Python floats, per sample."""

    def __init__(self, X: list, y: list, weights: Weights, lr: float) -> None:
        self.X, self.y, self.weights, self.lr = X, y, weights, lr

    def _params(self) -> list[list[list[float]]]:
        """params[layer][neuron] = [w_0, ..., w_k, b], mutable."""
        return [[[*w, b] for w, b in layer] for layer in self.weights]

    def _step(self, params: list, update: bool) -> tuple[float, list]:
        scale, last = 1.0 / len(self.X), len(params) - 1
        grads = [[[0.0] * len(neuron) for neuron in layer] for layer in params]
        loss = 0.0
        for x, label in zip(self.X, self.y):
            activations, pre_activations = [x], []
            for depth, layer in enumerate(params):
                inputs = activations[-1]
                z = [sum(w * xi for w, xi in zip(neuron, inputs)) + neuron[-1] for neuron in layer]
                pre_activations.append(z)
                activations.append(z if depth == last else [max(zj, 0.0) for zj in z])
            margin = 1.0 - label * activations[-1][0]
            if margin <= 0:
                continue
            loss += margin * scale
            upstream = [-label * scale]  # d loss / d score
            for depth in range(last, -1, -1):
                layer, inputs = params[depth], activations[depth]
                downstream = [0.0] * len(inputs)
                for j, neuron in enumerate(layer):
                    g = upstream[j] if depth == last or pre_activations[depth][j] > 0 else 0.0
                    if g == 0.0:
                        continue
                    grad = grads[depth][j]
                    for k, xk in enumerate(inputs):
                        grad[k] += g * xk
                        downstream[k] += g * neuron[k]
                    grad[-1] += g
                upstream = downstream
        for layer, layer_grads in zip(params, grads):
            for neuron, grad in zip(layer, layer_grads):
                for k, p in enumerate(neuron):
                    loss += ALPHA * p * p
                    grad[k] += 2 * ALPHA * p
                    if update:
                        neuron[k] = p - self.lr * grad[k]
        return loss, grads

    def check(self) -> tuple[float, list[float]]:
        loss, grads = self._step(self._params(), update=False)
        return loss, [g for layer in grads for neuron in layer for g in neuron]

    def time(self, steps: int, gc_on: bool) -> float:
        params = self._params()
        return _timed(lambda: self._step(params, update=True), steps, gc_on)

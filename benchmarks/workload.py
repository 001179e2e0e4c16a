"""The demo workload of karpathy/micrograd, written once for any scalar engine.

moons (100 points, labels -1 and 1), MLP(2, [16, 16, 1]) with ReLU hidden layers and a
linear output, hinge loss plus 1e-4 L2, full-batch SGD. One step is: the forward pass
over all 100 points, zero_grad, backward, the update.

This module imports nothing but the standard library, because it also runs inside a
subprocess whose ``micrograd`` is karpathy's release.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

SIZES = (2, 16, 16, 1)
ALPHA = 1e-4
LEARNING_RATE = 0.05
SEED = 1337

# weights[layer][neuron] = (input weights, bias), in karpathy/micrograd's order
Weights = list[list[tuple[list[float], float]]]


def initial_weights(seed: int = SEED, sizes: Sequence[int] = SIZES) -> Weights:
    """The parameters karpathy/micrograd's MLP draws after ``random.seed(seed)``."""
    rng = random.Random(seed)
    return [
        [([rng.uniform(-1, 1) for _ in range(nin)], 0.0) for _ in range(nout)]
        for nin, nout in zip(sizes, sizes[1:])
    ]


def flat(weights: Weights) -> list[float]:
    """The weights as one list in ``parameters()`` order: per neuron, its w then its b."""
    return [x for layer in weights for w, b in layer for x in (*w, b)]


def moons(n: int = 100, seed: int = SEED) -> tuple[list[list[float]], list[float]]:
    """scikit-learn's make_moons(n, noise=0.1), with labels mapped to -1 and 1."""
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=n, noise=0.1, random_state=seed)
    return X.tolist(), (2.0 * y - 1.0).tolist()


class ScalarMLP:
    """karpathy/micrograd's MLP over any scalar type: a neuron is
    ``sum(w * x, start=b)``, ReLU on hidden layers, linear output."""

    def __init__(self, weights: Weights, leaf: Callable) -> None:
        self.layers = [[([leaf(x) for x in w], leaf(b)) for w, b in layer] for layer in weights]

    def __call__(self, x: list):
        last = len(self.layers) - 1
        for depth, layer in enumerate(self.layers):
            acts = [sum((wi * xi for wi, xi in zip(w, x)), b) for w, b in layer]
            x = acts if depth == last else [act.relu() for act in acts]
        return x[0] if len(x) == 1 else x

    def parameters(self) -> list:
        return [p for layer in self.layers for w, b in layer for p in (*w, b)]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0


def demo_loss(model, parameters: list, leaf: Callable, X: list, y: list):
    """mean over samples of relu(1 - y * model(x)), plus ALPHA * sum(p * p), as in
    karpathy/micrograd's demo.ipynb (the same expression, so the same graph)."""
    inputs = [list(map(leaf, row)) for row in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * score).relu() for yi, score in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = ALPHA * sum(p * p for p in parameters)
    return data_loss + reg_loss

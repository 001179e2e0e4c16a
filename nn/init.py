"""Weight initialisations by name: ``init(fan_in, fan_out, rng) -> float``, one number per
call, drawn from rng (a ``random.Random``), so that a seed gives the same model every time."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

__all__ = ["INITS", "initial_bias"]


def _uniform(fan_in: int, fan_out: int, rng) -> float:
    return rng.uniform(-1, 1)


def _xavier_uniform(fan_in: int, fan_out: int, rng) -> float:
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound)


def _he_uniform(fan_in: int, fan_out: int, rng) -> float:
    bound = math.sqrt(6.0 / fan_in)
    return rng.uniform(-bound, bound)


def _xavier_normal(fan_in: int, fan_out: int, rng) -> float:
    return rng.gauss(0.0, math.sqrt(2.0 / (fan_in + fan_out)))


def _he_normal(fan_in: int, fan_out: int, rng) -> float:
    return rng.gauss(0.0, math.sqrt(2.0 / fan_in))


def _pytorch(fan_in: int, fan_out: int, rng) -> float:
    """kaiming_uniform_(a=sqrt(5)), what torch.nn.Linear and Conv2d start from: the bound
    sqrt(6 / ((1 + 5) * fan_in)) is 1 / sqrt(fan_in); their biases are drawn the same way."""
    bound = 1.0 / math.sqrt(fan_in)
    return rng.uniform(-bound, bound)


INITS: dict[str, Callable[[int, int, Any], float]] = {
    "uniform": _uniform,  # U(-1, 1): karpathy/micrograd's
    "xavier_uniform": _xavier_uniform,  # U(-a, a), a = sqrt(6 / (fan_in + fan_out))
    "glorot_uniform": _xavier_uniform,
    "he_uniform": _he_uniform,  # U(-a, a), a = sqrt(6 / fan_in): torch's kaiming_uniform_ for ReLU
    "kaiming_uniform": _he_uniform,
    "xavier_normal": _xavier_normal,  # N(0, s), s = sqrt(2 / (fan_in + fan_out))
    "glorot_normal": _xavier_normal,
    "he_normal": _he_normal,  # N(0, s), s = sqrt(2 / fan_in): torch's kaiming_normal_ for ReLU
    "kaiming_normal": _he_normal,
    "zeros": lambda fan_in, fan_out, rng: 0.0,
    "pytorch": _pytorch,  # U(-a, a), a = 1 / sqrt(fan_in): torch.nn.Linear's and Conv2d's
}
"""Weight initialisations by name: ``init(fan_in, fan_out, rng) -> float``."""


def initial_bias(draw: Callable, fan_in: int, fan_out: int, rng) -> float:
    """A bias's first value: PyTorch draws a Linear's and a Conv2d's biases as their weights
    (init "pytorch"); every other initialisation starts them at 0, as karpathy's does."""
    return draw(fan_in, fan_out, rng) if draw is INITS["pytorch"] else 0.0

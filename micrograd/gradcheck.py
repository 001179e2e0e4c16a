"""Check analytic derivatives against central finite differences, up to any order."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from itertools import product

from .backward import grad
from .engine import Value


class GradcheckError(AssertionError):
    """An analytic derivative disagrees with its finite-difference estimate."""


def _derivatives(fn: Callable[..., Value], point: Sequence[float], order: int) -> dict:
    """{(i, j, ...): d^k fn / dx_i dx_j ...} for every index tuple of length ``order``,
    computed by differentiating the engine's own gradients ``order`` times."""
    xs = [Value(x) for x in point]
    level: dict[tuple[int, ...], object] = {(): fn(*xs)}
    for _ in range(order):
        deeper = {}
        for index, value in level.items():
            if isinstance(value, Value):
                partials = grad(value, xs, create_graph=True)
            else:  # a plain number: it does not depend on the inputs
                partials = [0.0] * len(xs)
            for i, partial in enumerate(partials):
                deeper[index + (i,)] = partial
        level = deeper
    return {index: float(value) for index, value in level.items()}


def _close(analytic: float, numeric: float, atol: float, rtol: float) -> bool:
    if math.isnan(analytic) or math.isnan(numeric):
        return math.isnan(analytic) and math.isnan(numeric)
    if math.isinf(analytic) or math.isinf(numeric):
        return analytic == numeric
    return abs(analytic - numeric) <= atol + rtol * abs(numeric)


def _check_arguments(order: object, eps: object, atol: object, rtol: object) -> None:
    """Refuse what would divide by zero or make every comparison fail (or pass) vacuously."""
    if isinstance(order, bool) or not isinstance(order, numbers.Integral) or order < 1:
        raise ValueError(f"gradcheck: order must be a positive integer, got {order!r}")
    if not _is_number(eps) or not math.isfinite(eps) or eps <= 0:
        raise ValueError(f"gradcheck: eps must be a positive finite number, got {eps!r}")
    for name, tolerance in (("atol", atol), ("rtol", rtol)):
        if not _is_number(tolerance) or not math.isfinite(tolerance) or tolerance < 0:
            raise ValueError(
                f"gradcheck: {name} must be a non-negative finite number, got {tolerance!r}"
            )


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def gradcheck(
    fn: Callable[..., Value],
    inputs: Sequence[float | Value],
    order: int = 2,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Check every derivative of ``fn(*inputs)`` up to ``order`` against central differences.

    The k-th derivatives are compared with ``(D(x + eps) - D(x - eps)) / (2 eps)`` of the
    (k-1)-th, input by input; a mismatch raises GradcheckError naming the input and both
    numbers. Returns True when everything agrees. order must be a positive integer, eps a
    positive finite number, atol and rtol non-negative finite numbers (else ValueError).
    """
    _check_arguments(order, eps, atol, rtol)
    point = [x.data if isinstance(x, Value) else float(x) for x in inputs]
    names = [
        x.label if isinstance(x, Value) and x.label else f"inputs[{i}]"
        for i, x in enumerate(inputs)
    ]
    for k in range(1, order + 1):
        analytic = _derivatives(fn, point, k)
        for lower_index in product(range(len(point)), repeat=k - 1):
            for i in range(len(point)):
                shifted_up, shifted_down = list(point), list(point)
                shifted_up[i] += eps
                shifted_down[i] -= eps
                up = _derivatives(fn, shifted_up, k - 1)[lower_index]
                down = _derivatives(fn, shifted_down, k - 1)[lower_index]
                numeric = (up - down) / (2 * eps)
                index = lower_index + (i,)
                if not _close(analytic[index], numeric, atol, rtol):
                    wrt = " ".join(f"d{names[j]}" for j in index)
                    raise GradcheckError(
                        f"gradcheck: d^{k} f / {wrt} at {point} is {analytic[index]!r} "
                        f"analytically but {numeric!r} by finite differences "
                        f"(input {names[i]} = {point[i]!r}, eps={eps})"
                    )
    return True

"""Check analytic derivatives against central finite differences, up to any order."""

from __future__ import annotations

import math
import numbers
import reprlib
from collections.abc import Callable, Sequence
from itertools import product

from .backward import grad, walked
from .engine import Value
from .modes import enable_grad


class GradcheckError(AssertionError):
    """An analytic derivative disagrees with its finite-difference estimate."""


# fn's output is multiplied by this before its derivatives are taken, so that a rule meets
# an incoming gradient g other than 1 (a rule that forgets g, or squares it, would pass at 1);
# a power of two: the scaling is exact, and the numbers are divided back exactly
SEED = -2.0
# the seed where SEED * fn, or a derivative of it, overflows, and fn's own numbers do not
# (exp at 709.5 is 1.35e308): halving is exact but for numbers below 2**-1021
SMALL_SEED = -0.5


def _derivatives(fn: Callable[..., Value], point: Sequence[float], order: int) -> dict:
    """{(i, j, ...): d^k fn / dx_i dx_j ...} for every index tuple of length ``order``,
    computed by differentiating the engine's own gradients ``order`` times (of SEED * fn,
    divided back by SEED; of SMALL_SEED * fn where that overflows and this does not)."""
    return _seeded(lambda seed: _seeded_derivatives(fn, point, order, seed), dict.values)


def _seeded(compute: Callable, numbers: Callable = list):
    """compute(SEED), or compute(SMALL_SEED) where numbers of the first are not all finite
    and those of the second are."""
    found = compute(SEED)
    if all(map(math.isfinite, numbers(found))):
        return found
    again = compute(SMALL_SEED)
    return again if all(map(math.isfinite, numbers(again))) else found


def _seeded_derivatives(fn: Callable[..., Value], point: Sequence[float], order: int,
                        seed: float) -> dict:  # fmt: skip
    xs = [Value(x) for x in point]
    level: dict[tuple[int, ...], object] = {(): _scalar(fn(*xs)) * seed}
    for depth in range(order):
        deeper = {}
        for index, value in level.items():
            if isinstance(value, Value):
                partials = gradients(value, xs, depth, order, "gradcheck")
            else:  # a plain number: it does not depend on the inputs
                partials = [0.0] * len(xs)
            for i, partial in enumerate(partials):
                deeper[index + (i,)] = partial
        level = deeper
    return {index: float(value) / seed for index, value in level.items()}


def gradients(value: Value, xs: list[Value], depth: int, order: int, owner: str) -> list:
    """d value / d x for x in xs, the depth-th of order differentiations: as Values
    (create_graph), so that they can be differentiated again and the rules' Value path is
    checked, except the last one of a graph with a node made the lecture's way, whose
    _backward closure gives numbers only. Before the last, such a node is refused, naming
    the order that would check it."""
    if any(node._op.derivative is None for node in walked(value)):
        if depth < order - 1:
            raise TypeError(
                f"{owner}: order={order} needs derivatives of derivatives, which a node made "
                "the lecture's way (a _backward closure) cannot give; check it with order=1, "
                "or write its op as an Op row (micrograd.ops)"
            )
        return grad(value, xs)
    return grad(value, xs, create_graph=True)


def _plain_gradient(fn: Callable[..., Value], point: Sequence[float]) -> list[float]:
    """The first derivatives by backward() on floats (the rules' float path), of SEED * fn
    (or SMALL_SEED * fn, as _derivatives), divided back."""
    return _seeded(lambda seed: _seeded_plain_gradient(fn, point, seed))


def _seeded_plain_gradient(fn: Callable, point: Sequence[float], seed: float) -> list[float]:
    found = plain_gradient(lambda *xs: _scalar(fn(*xs)) * seed, point)
    if isinstance(found, str):
        raise GradcheckError(f"gradcheck: {found} at {list(point)}")
    return [partial / seed for partial in found]


def plain_gradient(fn: Callable, point: Sequence[float]) -> list[float] | str:
    """[d fn / dx_i] by backward() on floats, the rules' float path that plain backward()
    runs (create_graph runs them on Values), or what went wrong there: a rule that raised
    (a float division by zero, where Values give inf), a gradient that is no float."""
    xs = [Value(x) for x in point]
    out = fn(*xs)
    if not isinstance(out, Value):  # a plain number: it does not depend on the inputs
        return [0.0] * len(xs)
    try:
        partials = grad(out, xs)
    # ZeroDivisionError, OverflowError: float rules raise; TypeError: the engine refused what
    # an op of one's own returned (a complex gradient, say)
    except (ArithmeticError, TypeError) as error:
        return f"backward() on floats raised {type(error).__name__}: {error}"
    for i, partial in enumerate(partials):
        if not isinstance(partial, (int, float)):
            return (
                f"backward() on floats gave {partial!r} for input {i}, not a float (a rule of "
                "floats made it, e.g. a negative ** 0.5)"
            )
    return [float(partial) for partial in partials]


def _scalar(out: object) -> Value | float:
    """fn's output, one number: a Value, or a plain number that does not depend on inputs."""
    if isinstance(out, Value) or _is_number(out):
        return out
    raise TypeError(
        f"gradcheck: fn must return one Value (a scalar), got {type(out).__name__}: "
        f"{reprlib.repr(out)}; check each output on its own"
    )


def _close(analytic: float, numeric: float, atol: float, rtol: float) -> bool:
    """Within atol + rtol * |numeric|; inf only to the same inf. A nan never agrees, not
    even with a nan: where f or its derivative is nan there is nothing to compare (as in
    torch.autograd.gradcheck), and any rule would pass."""
    if math.isnan(analytic) or math.isnan(numeric):
        return False
    if math.isinf(analytic) or math.isinf(numeric):
        return analytic == numeric
    return abs(analytic - numeric) <= atol + rtol * abs(numeric)


def _check_arguments(order: object, eps: object, atol: object, rtol: object) -> None:
    """Refuse what would divide by zero or make every comparison fail (or pass) vacuously."""
    if isinstance(order, bool) or not isinstance(order, numbers.Integral) or order < 1:
        raise ValueError(f"gradcheck: order must be a positive integer, got {order!r}")
    if not _is_number(eps) or not math.isfinite(eps) or eps <= 0:
        raise ValueError(f"gradcheck: eps must be a positive finite number, got {eps!r}")
    check_tolerances("gradcheck", atol=atol, rtol=rtol)


def check_tolerances(owner: str, **tolerances: object) -> None:
    """Each tolerance a non-negative finite number: inf passes everything, nan and negative
    numbers fail everything (with rows of equal numbers), and text fails in a product."""
    for name, tolerance in tolerances.items():
        if not _is_number(tolerance) or not math.isfinite(tolerance) or tolerance < 0:
            raise ValueError(
                f"{owner}: {name} must be a non-negative finite number, got {tolerance!r}"
            )


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


@enable_grad()  # derivatives need the graph, whatever mode the caller is in
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

    The derivatives are taken of ``-2 * fn`` (of ``-0.5 * fn`` where that overflows, as
    exp(709.5) * -2 does) and divided back, so that a rule meets an incoming gradient other
    than 1, and the first ones both ways a rule runs: on Values (``create_graph``) and on
    floats (plain ``backward()``). A nan agrees with nothing, as
    in torch.autograd.gradcheck. eps is absolute: at a large input, x + eps rounds, and the
    difference is taken over the step the floats took; give a larger eps there, and keep
    points off kinks (relu and abs at 0), where no finite difference is the derivative.
    """
    _check_arguments(order, eps, atol, rtol)
    point = _point(inputs)
    names = input_names(inputs)
    for k in range(1, order + 1):
        analytic = _derivatives(fn, point, k)
        ways = [("analytically", analytic)]
        if k == 1:  # the float path too, which plain backward() runs
            plain = _plain_gradient(fn, point)
            ways.append(("by backward() on floats", {(i,): d for i, d in enumerate(plain)}))
        for lower_index in product(range(len(point)), repeat=k - 1):
            for i in range(len(point)):
                shifted_up, shifted_down = list(point), list(point)
                shifted_up[i] += eps
                shifted_down[i] -= eps
                step = shifted_up[i] - shifted_down[i]  # 2 eps as the floats round it
                if step == 0 or not math.isfinite(step):
                    raise ValueError(
                        f"gradcheck: eps={eps} does not move input {names[i]} = {point[i]!r} "
                        "(x + eps rounds to x); give an eps above its spacing of floats"
                    )
                up = _derivatives(fn, shifted_up, k - 1)[lower_index]
                down = _derivatives(fn, shifted_down, k - 1)[lower_index]
                numeric = (up - down) / step
                index = lower_index + (i,)
                for how, found in ways:
                    if not _close(found[index], numeric, atol, rtol):
                        wrt = " ".join(f"d{names[j]}" for j in index)
                        raise GradcheckError(
                            f"gradcheck: d^{k} f / {wrt} at {point} is {found[index]!r} "
                            f"{how} but {numeric!r} by finite differences "
                            f"(input {names[i]} = {point[i]!r}, eps={eps}). "
                            + _hint(found[index], numeric)
                        )
    return True


def _hint(analytic: float, numeric: float) -> str:
    """What the mismatch suggests, where it suggests something."""
    if math.isnan(analytic) or math.isnan(numeric):
        return (
            "A nan agrees with nothing: check at a point where f and its neighbours at "
            "+-eps are defined."
        )
    ratio = analytic / numeric if numeric else math.nan
    if any(math.isclose(ratio, factor, rel_tol=1e-3) for factor in (1 / SEED, SEED)):
        return (
            f"The derivatives are of {SEED} * f, divided back, so that each rule meets a "
            f"gradient g other than 1, and this is {ratio:.3g} times the true number: a rule "
            f"that ignores g gives {1 / SEED:g} times it, one that squares g {SEED:g} times."
        )
    return (
        "A wrong rule, or a point within eps of a kink, or where the finite difference "
        "itself loses its digits (a large |x|, a small eps): try another point or eps."
    )


def as_number(owner: str, what: str, x) -> float:
    """x (a real number, not a bool, or a Value) as a float, else TypeError or, for an int
    past float range, ValueError, naming owner and what."""
    if isinstance(x, Value):
        return x.data
    if not _is_number(x):
        raise TypeError(f"{owner}: {what} must be a number or Value, got {x!r}")
    try:
        return float(x)
    except OverflowError:
        raise ValueError(f"{owner}: {what} is an integer too large for a float64") from None


def _point(inputs: object) -> list[float]:
    """inputs as numbers: a sequence of numbers or Values (not a str, not one number)."""
    if isinstance(inputs, (str, bytes, Value)) or not isinstance(inputs, Sequence):
        raise TypeError(
            f"gradcheck: inputs must be a list of numbers or Values, got "
            f"{type(inputs).__name__}: {reprlib.repr(inputs)}"
        )
    point = []
    for i, x in enumerate(inputs):
        number = as_number("gradcheck", f"inputs[{i}]", x)
        if not math.isfinite(number):  # no eps moves it, and no difference is a slope
            raise ValueError(
                f"gradcheck: inputs[{i}] is {number}; finite differences need finite inputs"
            )
        point.append(number)
    return point


def input_names(inputs: Sequence, unnamed: str = "inputs[{i}]", again: str = "{label}[{i}]"):
    """Each input's label, or unnamed; a label given twice gets its position too (again)."""
    labels = [x.label if isinstance(x, Value) and x.label else None for x in inputs]
    return [
        unnamed.format(i=i) if label is None
        else label if labels.count(label) == 1
        else again.format(label=label, i=i)
        for i, label in enumerate(labels)
    ]  # fmt: skip

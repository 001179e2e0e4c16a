"""Checking your own code against PyTorch, with the checks this project's own tests run.

* ``assert_matches_torch(fn, *inputs)`` runs one function on Values and on float64 tensors
  (``Value`` and ``torch.Tensor`` share ``exp``, ``log``, ``tanh``, ``sigmoid``, ``relu``,
  ``sqrt``, ``sin``, ``cos``, ``abs`` and the operators) and compares the value, every first
  derivative and, to ``order=2`` (the default), the Hessian; ``order=1`` for a node made
  the lecture's way, whose closure gives no derivatives of derivatives.
* ``check_op(op, torch_fn)`` runs on any op, yours too, everything the built-in ops pass: a
  grid of awkward points against PyTorch to second order, central finite differences to
  second order at smooth points, and micrograd.compile against PyTorch over the grid.
* A whole model: ``micrograd.nn.testing.assert_module_matches_torch``.

A mismatch raises AssertionError with a table (which derivative, ours, PyTorch's, the
relative error), so the checks work in pytest and unittest alike. PyTorch is imported only
when a check runs: ``import micrograd`` never imports it.
"""

from __future__ import annotations

import functools
import itertools
import math
import numbers
import reprlib
from collections.abc import Callable, Iterable, Sequence

from .engine import Value
from .floatmath import FLOAT
from .formulas import FormulaError, evaluate
from .gradcheck import (
    SEED,
    GradcheckError,
    _is_number,
    as_number,
    check_tolerances,
    gradcheck,
    gradients,
    input_names,
    plain_gradient,
)
from .modes import anomaly_detected, enable_grad
from .ops import Op

__all__ = [
    "AWKWARD_BINARY",
    "AWKWARD_UNARY",
    "SMOOTH_BINARY",
    "SMOOTH_UNARY",
    "assert_matches_torch",
    "check_op",
]

INF, NAN = math.inf, math.nan

# Points where ops are awkward: zeros of both signs, tiny and huge magnitudes, negatives,
# the poles and branch points of log, sqrt and pow, and the non-finite values themselves.
AWKWARD_UNARY = [0.0, -0.0, 1e-300, 1e-8, -1e-8, 0.5, -0.5, 1.0, -1.0, 2.5, -3.0, 20.0, -20.0]
AWKWARD_UNARY += [100.0, -100.0, 709.0, 710.0, -745.0, 1000.0, -1000.0, 1e10, -1e10, 1e300]
AWKWARD_UNARY += [INF, -INF, NAN]
_SMALL = [0.0, -0.0, 1e-8, 0.5, -0.5, 1.0, -1.0, 2.0, -3.0, 1e3, -1e3, 1e200, INF, -INF, NAN]
AWKWARD_BINARY = list(itertools.product(_SMALL, _SMALL))
SMOOTH_UNARY = [(0.7,), (1.9,)]  # away from every kink, pole and branch cut
SMOOTH_BINARY = [(0.7, 1.3), (1.9, 0.6)]


def torch_module():
    """PyTorch, or an ImportError that says how to install it."""
    try:
        import torch
    except ImportError as error:
        raise ImportError(
            "micrograd.testing compares against PyTorch, which is not installed: "
            "pip install torch (the CPU build is enough: pip install torch "
            "--index-url https://download.pytorch.org/whl/cpu)"
        ) from error
    return torch


def with_gradients_on(check: Callable) -> Callable:
    """check, run with gradients recorded, micrograd's and PyTorch's, whatever mode its
    caller is in: under no_grad() both sides' derivatives were zeros, and the report blamed
    the rule."""

    @functools.wraps(check)
    def run(*args, **kwargs):
        with enable_grad(), torch_module().enable_grad():
            return check(*args, **kwargs)

    return run


def agree(ours: float, theirs: float, rtol: float, atol: float, signed_zero: bool = False):
    """Whether ours is theirs: to atol + rtol * |theirs|, nan to nan, inf to the same inf,
    and (signed_zero) -0.0 only to -0.0."""
    ours, theirs = float(ours), float(theirs)
    if math.isnan(ours) or math.isnan(theirs):
        return math.isnan(ours) and math.isnan(theirs)
    if math.isinf(ours) or math.isinf(theirs):
        return ours == theirs
    if signed_zero and ours == 0 and theirs == 0:
        return math.copysign(1.0, ours) == math.copysign(1.0, theirs)
    return abs(ours - theirs) <= atol + rtol * abs(theirs)


def _one_output(out: object, owner: str) -> object:
    if isinstance(out, (list, tuple)):
        raise TypeError(
            f"{owner}: the function must return one number (a Value or a tensor), got a "
            f"{type(out).__name__} of {len(out)}; check each output on its own"
        )
    if not (isinstance(out, Value) or _is_number(out) or hasattr(out, "requires_grad")):
        raise TypeError(  # None, text, an array: float() of it said nothing of the function
            f"{owner}: the function must return one number (a Value or a tensor), got "
            f"{reprlib.repr(out)}"
        )
    return out


def _our_derivatives(fn: Callable, point: Sequence[float], order: int) -> dict:
    """{(): value, (i,): d/dx_i, (i, j): d2/dx_i dx_j, ...} from the engine, to order."""
    xs = [Value(x) for x in point]
    level: dict[tuple, object] = {(): _one_output(fn(*xs), "micrograd.testing")}
    found = {(): level[()]}
    for depth in range(order):
        deeper = {}
        for index, value in level.items():
            partials = (
                gradients(value, xs, depth, order, "micrograd.testing")
                if isinstance(value, Value)
                else None
            )
            for i in range(len(xs)):
                deeper[index + (i,)] = partials[i] if partials else 0.0
        found |= deeper
        level = deeper
    return {index: float(getattr(value, "data", value)) for index, value in found.items()}


def _under_a_factor(fn: Callable) -> Callable:
    def scaled(*xs):
        out = fn(*xs)
        return out * SEED if isinstance(out, Value) or hasattr(out, "requires_grad") else out

    return scaled


def _factor_mismatches(fn, torch_fn, point, names, function, rtol, atol, signed_zero, excused):
    """Rows (as _mismatches) of the first derivatives of SEED * fn, both ways the engine
    takes them (on Values, as create_graph; on floats, as backward()), against PyTorch's."""
    scaled = _under_a_factor(fn)
    theirs = _torch_derivatives(_under_a_factor(torch_fn), point, 1)
    theirs = {index: value for index, value in theirs.items() if index}
    ours = {index: value for index, value in _our_derivatives(scaled, point, 1).items() if index}
    label = f"({SEED:g}*{function})"
    rows = _mismatches(ours, theirs, point, names, label, rtol, atol, signed_zero, excused)
    plain = plain_gradient(scaled, point)
    if isinstance(plain, str):
        return rows + [(f"d{label}(floats): {plain}", 1, math.nan, math.nan)]
    plain = {(i,): partial for i, partial in enumerate(plain)}
    more = _mismatches(plain, theirs, point, names, label, rtol, atol, signed_zero, excused)
    return rows + [(f"{name}(floats)", *rest) for name, *rest in more]


def _torch_derivatives(fn: Callable, point: Sequence[float], order: int) -> dict:
    torch = torch_module()
    ts = [torch.tensor(float(x), dtype=torch.float64, requires_grad=True) for x in point]
    level: dict[tuple, object] = {(): _one_output(fn(*ts), "micrograd.testing")}
    found = dict(level)
    for _ in range(order):
        deeper = {}
        for index, value in level.items():
            needs = isinstance(value, torch.Tensor) and value.requires_grad
            partials = (
                torch.autograd.grad(value, ts, create_graph=True, allow_unused=True)
                if needs
                else [None] * len(ts)
            )
            for i, partial in enumerate(partials):
                deeper[index + (i,)] = 0.0 if partial is None else partial
        found |= deeper
        level = deeper
    return {
        index: float(value.detach() if isinstance(value, torch.Tensor) else value)
        for index, value in found.items()
    }


def _named(index: tuple, names: list[str], function: str) -> str:
    if not index:
        return function
    wrt = "".join(f"d{names[i]}" for i in index)
    power = f"{len(index)}" if len(index) > 1 else ""
    return f"d{power}{function}/{wrt}"


def _table(title: str, rows: list[tuple]) -> str:
    header = ("derivative", "order", "micrograd", "PyTorch", "rel. error")
    lines = [header] + [
        (name, str(order), repr(ours), repr(theirs), _relative_error(ours, theirs))
        for name, order, ours, theirs in rows
    ]
    widths = [max(len(line[k]) for line in lines) for k in range(len(header))]
    body = ["  " + "  ".join(cell.ljust(w) for cell, w in zip(line, widths)) for line in lines]
    return "\n".join([title, *body])


def _relative_error(ours: float, theirs: float) -> str:
    if math.isnan(ours) or math.isnan(theirs) or math.isinf(ours) or math.isinf(theirs):
        return "-"
    scale = max(abs(theirs), abs(ours))
    return f"{abs(ours - theirs) / scale:.1e}" if scale else "0"


def _mismatches(ours, theirs, point, names, function, rtol, atol, signed_zero, excused):
    rows = []
    for index, value in ours.items():
        if not agree(value, theirs[index], rtol, atol, signed_zero):
            if not excused(point, index, value, theirs[index]):
                rows.append((_named(index, names, function), len(index), value, theirs[index]))
    return rows


@with_gradients_on
def assert_matches_torch(
    fn: Callable,
    *inputs: float | Value,
    order: int = 2,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    torch_fn: Callable | None = None,
) -> None:
    """fn(*inputs) on Values and (torch_fn or fn) on float64 tensors agree: the value, every
    first derivative and, to order 2, every second one; else AssertionError with a table."""
    if isinstance(order, bool) or not isinstance(order, numbers.Integral) or order < 0:
        raise ValueError(f"assert_matches_torch: order must be an integer >= 0, got {order!r}")
    order = int(order)
    check_tolerances("assert_matches_torch", rtol=rtol, atol=atol)
    point = [as_number("assert_matches_torch", f"input {i}", x) for i, x in enumerate(inputs)]
    names = input_names(inputs, unnamed="x{i}", again="{label}{i}")
    function = fn.name if isinstance(fn, Op) else getattr(fn, "__name__", "f")
    function = "f" if function == "<lambda>" else function
    ours = _our_derivatives(fn, point, order)
    try:
        theirs = _torch_derivatives(torch_fn or fn, point, order)
    except (TypeError, AttributeError) as error:  # a tensor has no .leaky_relu, say
        if torch_fn is not None:
            raise
        raise TypeError(
            f"assert_matches_torch: {function} did not run on torch tensors ({error}); pass "
            "torch_fn=, PyTorch's version of it (an Op of one's own needs one)"
        ) from error
    rows = _mismatches(ours, theirs, point, names, function, rtol, atol, False, _nothing)
    if order >= 1:
        rows += _factor_mismatches(
            fn, torch_fn or fn, point, names, function, rtol, atol, False, _nothing
        )
    if rows:
        at = ", ".join(f"{name}={x!r}" for name, x in zip(names, point))
        raise AssertionError(_table(f"micrograd and PyTorch disagree on {function} at {at}:", rows))


def _nothing(*args) -> bool:
    return False


@with_gradients_on
def check_op(
    op: Op,
    torch_fn: Callable,
    *,
    points: Sequence | None = None,
    smooth: Sequence | None = None,
    known_difference: Callable | None = None,
    rtol: float = 1e-12,
    compiled: bool = True,
) -> None:
    """Every check the built-in ops pass, on op: its value and derivatives to second order
    against torch_fn (float64) over points (the awkward grid by default), signs of zero
    included; central finite differences to second order at smooth points; and, compiled,
    micrograd.compile's values and gradients over the grid against PyTorch. ``smooth=[]``
    skips finite differences, for an op whose derivative is not its forward's slope (as
    stop_gradient's is 0).

    ``known_difference(point, index, ours, theirs)`` may excuse a documented difference
    (index is () for the value, (i,) or (i, j) for a derivative). Raises AssertionError
    listing every mismatch."""
    if not isinstance(op, Op) or op.arity not in (1, 2):
        raise TypeError(f"check_op: expected an Op of one or two inputs, got {op!r}")
    if op.derivative is None:  # the op of a node made the lecture's way
        raise TypeError(
            f"check_op: op {op.name!r} has no rules (a node made the lecture's way holds its "
            "own closure); check such a function with gradcheck or assert_matches_torch, "
            "order=1"
        )
    check_tolerances("check_op", rtol=rtol)
    if anomaly_detected():  # the grid's overflow points would raise FloatingPointError
        raise RuntimeError(
            "check_op: runs the op where it may overflow (its grid does on purpose: exp at "
            "710); call it outside detect_anomaly()"
        )
    if not callable(torch_fn):
        raise TypeError(f"check_op: torch_fn must be PyTorch's version of the op, got {torch_fn!r}")
    points = _points(op, "points", _default_points(op.arity) if points is None else points)
    if not points:
        raise ValueError("check_op: points is empty; leave it out for the awkward grid")
    excused = known_difference or _nothing
    sections: dict[str, list[str]] = {"the op": [], "finite differences": [], "PyTorch": []}
    built = op(*[Value(0.5) for _ in range(op.arity)])
    if built._op is not op:
        sections["the op"].append(f"{op.name}(...) made a node of op {built._op!r}, not {op!r}")
    smooth = _points(op, "smooth", _default_smooth(op.arity) if smooth is None else smooth)
    for point in smooth:
        try:
            gradcheck(op, point, order=2)
        except GradcheckError as error:
            sections["finite differences"].append(str(error))
    names = list(op.inputs)
    for point in points:
        ours = _our_derivatives(op, point, 2)
        theirs = _torch_derivatives(torch_fn, point, 2)
        rows = _mismatches(ours, theirs, point, names, op.name, rtol, 0.0, True, excused)
        rows += _factor_mismatches(op, torch_fn, point, names, op.name, rtol, 0.0, True, excused)
        for name, _, o, t in rows:
            sections["PyTorch"].append(f"at {point}: {name}: ours {o!r}, torch {t!r}")
    if compiled:
        sections["micrograd.compile"] = _compiled_mismatches(op, torch_fn, points, rtol, excused)
    sections["partials"] = _formula_mismatches(op, smooth + points)
    problems = {title: lines for title, lines in sections.items() if lines}
    if problems:
        count = sum(len(lines) for lines in problems.values())
        report = [f"check_op({op.name}): {count} problem(s)"]
        headings = {"the op": "the op:", "partials": "its partials (the captions' formulas):"}
        for title, lines in problems.items():
            report.append(headings.get(title, f"against {title}:"))
            report += [f"  {line}" for line in lines[:12]]
            if len(lines) > 12:
                report.append(f"  ... and {len(lines) - 12} more")
        raise AssertionError("\n".join(report))


def _formula_mismatches(op: Op, points: list) -> list[str]:
    """Each of op.partials, the formula a caption shows for a local derivative, against the
    number the rule gives on floats (with g = 1), which the caption multiplies by: at the
    points where the inputs (no two equal), the result and the rule's numbers are finite
    and the formula's arithmetic is defined."""
    if op.partials is None:
        return []
    problems, unread = [], set()
    for point in points:
        if len(set(point)) < len(point) or not all(map(math.isfinite, point)):
            continue
        try:
            out = op(*point).data
            derivatives = [float(d) for d in op.derivative(FLOAT, 1.0, out, *point)]
        except (ArithmeticError, ValueError, TypeError):
            continue  # the rule's own failures are the other checks' to report
        if not all(map(math.isfinite, [out, *derivatives])):
            continue
        names = {**dict(zip(op.inputs, point)), "out": out}
        for name, formula, want in zip(op.inputs, op.partials, derivatives):
            if formula in unread:
                continue
            try:
                got = evaluate(formula, names)
            except FormulaError as error:
                problems.append(str(error))
                unread.add(formula)
                continue
            except (ArithmeticError, ValueError):
                continue  # outside the formula's domain (log of a negative, say)
            if not agree(got, want, 1e-9, 1e-15):
                problems.append(
                    f"d out / d {name} = {formula} is {got!r} at {point}, where the rule "
                    f"gives {want!r}"
                )
    return problems


def _points(op: Op, argument: str, given) -> list[tuple[float, ...]]:
    """check_op's points (or smooth points) as tuples of op.arity floats: a point is a number
    (of a one-input op) or a sequence of arity numbers, an array's row too."""
    if isinstance(given, (str, bytes)) or not isinstance(given, Iterable):
        raise TypeError(f"check_op: {argument} must be a list of points, got {given!r}")
    points = []
    for k, point in enumerate(given):
        what = f"{argument}[{k}]"
        if isinstance(point, Iterable) and not isinstance(point, (str, bytes)):
            coordinates = tuple(as_number("check_op", what, x) for x in point)
        else:
            coordinates = (as_number("check_op", what, point),)
        if len(coordinates) != op.arity:
            raise ValueError(
                f"check_op: {what} has {len(coordinates)} numbers, and {op.name} takes {op.arity}"
            )
        points.append(coordinates)
    return points


def _default_points(arity: int) -> list:
    return AWKWARD_UNARY if arity == 1 else AWKWARD_BINARY


def _default_smooth(arity: int) -> list:
    return SMOOTH_UNARY if arity == 1 else SMOOTH_BINARY


def _compiled_mismatches(
    op: Op, torch_fn: Callable, points: list, rtol: float, excused: Callable
) -> list[str]:
    """micrograd.compile's values over the whole grid at once, and its derivatives at each
    point, against PyTorch; excused as the eager checks are: the value as index (), the
    derivative in input i as (i,).

    The derivatives come from a batch of two rows of the point (a rule that branches in
    Python on its input, which one row lets pass, fails on two) with an incoming gradient
    of SEED (a rule that forgets g is off by that factor): the gradient of a shift s in
    SEED * op(x - s), summed over the rows, is -2 * SEED times the derivative, compared
    with torch's derivative times that. x - 0.0 is x itself, -0.0, the infinities and nan
    included."""
    import numpy as np

    from .compiler import compile

    torch = torch_module()
    shifts = [Value(0.0) for _ in range(op.arity)]
    values = compile(lambda x: op(*x), reduce="sum")  # SEED * op would overflow at 9e307
    step = compile(lambda x: SEED * op(*[xi - s for s, xi in zip(shifts, x)]), reduce="sum")
    try:
        outputs = values.forward(np.array(points)).tolist()
    except (TypeError, ValueError, ArithmeticError) as error:  # a rule that fails on arrays
        return [f"compiled, over the grid: {error}"]
    problems = []
    for point, output in zip(points, outputs):
        t_shifts = [torch.tensor(0.0, dtype=torch.float64, requires_grad=True) for _ in point]
        t_out = _one_output(torch_fn(*[x - s for s, x in zip(t_shifts, point)]), "check_op")
        if getattr(t_out, "requires_grad", False):  # else no gradient reaches the shifts
            t_out.backward()  # (a detach, a plain number): 0
        value = t_out.item() if hasattr(t_out, "item") else float(t_out)
        if not agree(output, value, rtol, 0.0) and not excused(point, (), output, value):
            problems.append(f"compiled, at {point}: value ours {output!r}, torch {value!r}")
        for s in shifts:
            s.grad = 0.0
        try:
            step([point, point])
        except (TypeError, ValueError, ArithmeticError) as error:
            problems.append(f"compiled, at {point}, a batch of two rows: {error}")
            continue
        for i, (s, ts) in enumerate(zip(shifts, t_shifts)):
            theirs = 0.0 if ts.grad is None else -ts.grad.item()
            # compared as computed, scaled by 4, so that both overflow alike (exp at 709)
            ours, scale = s.grad / (-2 * SEED), -2 * SEED
            # a .grad starts at +0.0, so a -0.0 that arrives reads +0.0: zeros' signs aside
            if not (
                s.grad == theirs == 0 or agree(s.grad, theirs * scale, rtol, 0.0)
                or excused(point, (i,), ours, theirs)
            ):  # fmt: skip
                problems.append(
                    f"compiled, at {point}: derivative {i} ours {ours!r}, torch {theirs!r}"
                )
    return problems

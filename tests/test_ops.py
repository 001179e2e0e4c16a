"""Every op in micrograd.ops.OPS against PyTorch float64: values, gradients, second derivatives.

The table below is keyed by the engine's own op list, so adding an op to the engine without
adding it here fails ``test_every_op_has_a_case``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import torch
from oracle import same, same_grad, tensors, torch_grads

from micrograd import OPS, Value, grad, gradcheck

INF, NAN = math.inf, math.nan

# Points where ops are awkward: zeros of both signs, tiny and huge magnitudes, negatives,
# the poles and branch points of log, sqrt and pow, and the non-finite values themselves.
UNARY = [0.0, -0.0, 1e-300, 1e-8, -1e-8, 0.5, -0.5, 1.0, -1.0, 2.5, -3.0, 20.0, -20.0]
UNARY += [100.0, -100.0, 709.0, 710.0, -745.0, 1000.0, -1000.0, 1e10, -1e10, 1e300]
UNARY += [INF, -INF, NAN]
SMALL = [0.0, -0.0, 1e-8, 0.5, -0.5, 1.0, -1.0, 2.0, -3.0, 1e3, -1e3, 1e200, INF, -INF, NAN]
BINARY = list(itertools.product(SMALL, SMALL))
# pow also needs fractional and negative exponents of negative bases, and huge results.
POW_POINTS = BINARY + [(-8.0, 1 / 3), (-8.0, 3.0), (-2.0, -3.0), (0.0, -0.5), (-0.0, -1.0)]
POW_POINTS += [(10.0, 400.0), (-10.0, 401.0), (0.5, -2000.0), (2.0, 0.5), (1.0, NAN)]
LEAKY = [(a, alpha) for a in UNARY for alpha in (0.01, 0.2, -0.5)]


@dataclass
class Case:
    ours: Callable  # on Values
    theirs: Callable  # on torch tensors
    points: list
    # Whether a difference in a second derivative is a documented one (see below).
    documented_difference: Callable = lambda point, ours, theirs: False


def _pow_masked_branch(point, ours, theirs):
    """PyTorch's pow rule masks its branches (d/da is 0 where b == 0; d/db is 0 where a == 0),
    and its double backward sends a zero through the masked branch, where 0 * inf or
    0 * log(negative) turns it into nan, and 0 * (b - 1) = 0 * -1 into -0.0. Ours takes only
    the selected branch, so it gives the mathematically expected +0 there."""
    a, b = point
    masked = math.isnan(theirs) or (theirs == 0 and math.copysign(1.0, theirs) < 0)
    return (a == 0 or b == 0) and masked and ours == 0 and math.copysign(1.0, ours) > 0


def _leaky_relu_kink(point, ours, theirs):
    """At the kink a == 0, 0 and 1 are both valid values of d2/da dalpha; PyTorch's prelu
    double backward picks 0, ours picks 1 (the side the forward takes for a <= 0)."""
    return point[0] == 0 and ours == 1 and theirs == 0


CASES = {
    "add": Case(lambda a, b: a + b, lambda a, b: a + b, BINARY),
    "sub": Case(lambda a, b: a - b, lambda a, b: a - b, BINARY),
    "mul": Case(lambda a, b: a * b, lambda a, b: a * b, BINARY),
    "div": Case(lambda a, b: a / b, lambda a, b: a / b, BINARY),
    "neg": Case(lambda a: -a, lambda a: -a, UNARY),
    "pow": Case(lambda a, b: a**b, lambda a, b: a**b, POW_POINTS, _pow_masked_branch),
    "abs": Case(abs, torch.abs, UNARY),
    "exp": Case(Value.exp, torch.exp, UNARY),
    "log": Case(Value.log, torch.log, UNARY),
    "log1p": Case(Value.log1p, torch.log1p, UNARY + [-1.0 + 1e-12, -1.5, -1e-300, 1e-17]),
    "sqrt": Case(Value.sqrt, torch.sqrt, UNARY),
    "sin": Case(Value.sin, torch.sin, UNARY),
    "cos": Case(Value.cos, torch.cos, UNARY),
    "tanh": Case(Value.tanh, torch.tanh, UNARY),
    "sigmoid": Case(Value.sigmoid, torch.sigmoid, UNARY),
    "relu": Case(Value.relu, torch.relu, UNARY),
    "leaky_relu": Case(
        lambda a, alpha: a.leaky_relu(alpha),
        # PReLU is leaky ReLU with a learnable slope: torch's oracle for both gradients
        lambda a, alpha: torch.nn.functional.prelu(a.reshape(1), alpha.reshape(1)).reshape(()),
        LEAKY,
        _leaky_relu_kink,
    ),
    "maximum": Case(lambda a, b: a.maximum(b), torch.maximum, BINARY),
}


def test_every_op_has_a_case():
    assert sorted(CASES) == sorted(OPS), "every op in micrograd.ops.OPS needs a row in CASES"


def test_each_case_builds_its_own_op():
    for name, case in CASES.items():
        inputs = [Value(0.5) for _ in range(OPS[name].arity)]
        assert case.ours(*inputs)._op is OPS[name], name


def _first_order_mismatches(case: Case) -> list[str]:
    problems = []
    for point in case.points:
        point = point if isinstance(point, tuple) else (point,)
        xs = [Value(x) for x in point]
        out = case.ours(*xs)
        local = grad(out, xs)  # PyTorch's gradients exactly, signs of zero included
        out.backward()
        ts = tensors(*point)
        t_out = case.theirs(*ts)
        t_grads = torch_grads(t_out, ts)
        if not same(out.data, t_out.item()):
            problems.append(f"value at {point}: ours {out.data!r}, torch {t_out.item()!r}")
        for i, (x, g, tg) in enumerate(zip(xs, local, t_grads)):
            if not same(g, tg.item()):
                problems.append(f"grad[{i}] at {point}: ours {g!r}, torch {tg.item()!r}")
            if not same_grad(x.grad, tg.item()):
                problems.append(f".grad[{i}] at {point}: ours {x.grad!r}, torch {tg.item()!r}")
    return problems


@pytest.mark.parametrize("name", sorted(CASES))
def test_value_and_gradient_match_torch(name):
    problems = _first_order_mismatches(CASES[name])
    assert not problems, f"{name}:\n" + "\n".join(problems[:20])


def _second_order_mismatches(case: Case) -> list[str]:
    problems = []
    for point in case.points:
        point = point if isinstance(point, tuple) else (point,)
        xs = [Value(x) for x in point]
        first = grad(case.ours(*xs), xs, create_graph=True)
        ts = tensors(*point)
        t_first = torch_grads(case.theirs(*ts), ts, create_graph=True)
        for i, (g, tg) in enumerate(zip(first, t_first)):
            ours = grad(g, xs) if isinstance(g, Value) else [0.0] * len(xs)
            theirs = torch_grads(tg, ts) if tg.requires_grad else [torch.zeros(())] * len(ts)
            for j, (o, t) in enumerate(zip(ours, theirs)):
                if not same(o, t.item()) and not case.documented_difference(point, o, t.item()):
                    problems.append(f"d2/dx{i}dx{j} at {point}: ours {o!r}, torch {t.item()!r}")
    return problems


@pytest.mark.parametrize("name", sorted(CASES))
def test_second_derivatives_match_torch(name):
    problems = _second_order_mismatches(CASES[name])
    assert not problems, f"{name}:\n" + "\n".join(problems[:20])


# Plain numbers on either side of every binary operator become constants.
MIXED = [
    (lambda x: x + 2, lambda x: x + 2),
    (lambda x: 2 + x, lambda x: 2 + x),
    (lambda x: x - 2, lambda x: x - 2),
    (lambda x: 2 - x, lambda x: 2 - x),
    (lambda x: x * 3, lambda x: x * 3),
    (lambda x: 3 * x, lambda x: 3 * x),
    (lambda x: x / 4, lambda x: x / 4),
    (lambda x: 4 / x, lambda x: 4 / x),
    (lambda x: x**3, lambda x: x**3),
    (lambda x: x**0.5, lambda x: x**0.5),
    (lambda x: 2**x, lambda x: 2**x),
    (lambda x: x**-1, lambda x: x**-1),
    (lambda x: x.leaky_relu(), lambda x: torch.nn.functional.leaky_relu(x)),
]


@pytest.mark.parametrize("index", range(len(MIXED)))
def test_numbers_on_either_side(index):
    ours, theirs = MIXED[index]
    for x0 in [-2.0, -0.5, 0.0, 0.7, 3.0]:
        x = Value(x0)
        out = ours(x)
        out.backward()
        (t,) = tensors(x0)
        t_out = theirs(t)
        t_out.backward()
        assert same(out.data, t_out.item()), (index, x0, out.data, t_out.item())
        assert same(x.grad, t.grad.item()), (index, x0, x.grad, t.grad.item())


def test_third_derivatives_match_torch():
    def f(x, y):
        return (x * y).sin() * x.exp() + (x / y).tanh() * y**3 + (x * x + 1).log().sqrt()

    tf = f  # the same text runs on tensors
    for point in [(0.3, 1.7), (-1.2, 0.4), (2.0, -0.9)]:
        xs = [Value(v) for v in point]
        ts = tensors(*point)
        ours = [f(*xs)]
        theirs = [tf(*ts)]
        for _order in range(3):
            ours = [d for g in ours for d in grad(g, xs, create_graph=True)]
            theirs = [d for g in theirs for d in torch_grads(g, ts, create_graph=True)]
            for o, t in zip(ours, theirs):
                assert same(o.data, t.item(), rel=1e-10), (point, _order, o.data, t.item())


# Smooth points, away from every kink, pole and branch cut, where central differences are a
# fair oracle: positive ones suit every op; the ops defined for negatives get one there too.
SMOOTH_UNARY = [0.7, 1.9]
SMOOTH_BINARY = [(0.7, 1.3), (1.9, 0.6)]
NEGATIVE = {
    "neg": [-0.4],
    "abs": [-0.4],
    "exp": [-0.4],
    "sin": [-0.4],
    "cos": [-0.4],
    "tanh": [-0.4],
    "sigmoid": [-0.4],
    "relu": [-0.4],
    "log1p": [-0.4],
    "add": [(-0.4, -1.1)],
    "sub": [(-0.4, -1.1)],
    "mul": [(-0.4, -1.1)],
    "div": [(-0.4, -1.1)],
    "pow": [(0.6, -1.5)],
    "leaky_relu": [(-0.4, 0.2)],
    "maximum": [(-0.4, -1.1)],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_derivatives_match_finite_differences_to_second_order(name):
    smooth = SMOOTH_BINARY if OPS[name].arity == 2 else SMOOTH_UNARY
    for point in smooth + NEGATIVE.get(name, []):
        point = point if isinstance(point, tuple) else (point,)
        assert gradcheck(CASES[name].ours, point, order=2), (name, point)

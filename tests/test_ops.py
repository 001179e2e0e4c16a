"""Every op in micrograd.ops.OPS against PyTorch float64 and finite differences: values,
gradients and second derivatives at the awkward points, compiled too.

The checks are micrograd.testing.check_op, the very function a learner runs on an op of their
own; the cases are tests/op_cases.py, keyed by the op table, so adding an op to the engine
without a case fails ``test_every_op_has_a_case``.
"""

from __future__ import annotations

import pytest
import torch
from op_cases import CASES
from oracle import same, tensors, torch_grads

from micrograd import OPS, Value, grad
from micrograd.testing import SMOOTH_BINARY, SMOOTH_UNARY, check_op


def test_every_op_has_a_case():
    assert sorted(CASES) == sorted(OPS), "every op in micrograd.ops.OPS needs a row in CASES"


def test_each_case_builds_its_own_op():
    for name, case in CASES.items():
        inputs = [Value(0.5) for _ in range(OPS[name].arity)]
        assert case.ours(*inputs)._op is OPS[name], name


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_op_passes_check_op(name):
    case, op = CASES[name], OPS[name]
    smooth = (SMOOTH_UNARY if op.arity == 1 else SMOOTH_BINARY) + case.smooth
    if not case.slope:  # its derivative is not its forward's slope: PyTorch is the oracle
        smooth = []
    excused = case.known_difference
    check_op(op, case.torch, points=case.points, smooth=smooth, known_difference=excused)


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

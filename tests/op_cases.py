"""One test case per op of micrograd.ops.OPS: what every op test is generated from.

Adding an op needs one entry here: the Value method that makes it, PyTorch's version, and,
where the defaults do not fit, its awkward points, a gentle domain for random graphs, and
any documented difference from PyTorch. test_ops runs micrograd.testing.check_op on each;
the random-graph and compiler generators draw their ops from the same table.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from micrograd import OPS, Value
from micrograd.testing import AWKWARD_BINARY, AWKWARD_UNARY


def _same(x):
    return x


@dataclass(frozen=True)
class OpCase:
    ours: Callable  # the op through its Value method (or operator), on Values
    torch: Callable  # the op on float64 tensors: the oracle
    points: list | None = None  # awkward points; None: micrograd.testing's grid
    smooth: list = field(default_factory=list)  # more finite-difference points
    # For random graphs: each input is first passed through these (on Values and tensors
    # alike) so that most graphs stay finite and a mismatch means something.
    gentle: tuple[Callable, ...] = ()
    known_difference: Callable | None = None  # (point, index, ours, theirs) -> excused?
    graph_torch: Callable | None = None  # the oracle in random graphs, where it must differ
    slope: bool = True  # is the derivative the forward's slope? (not for stop_gradient)

    def graph_form(self, arity: int, side: int) -> Callable:
        """The op on a gentle domain, on Values (side 0) or tensors (side 1)."""
        gentle = self.gentle or (_same,) * arity
        fn = self.ours if side == 0 else (self.graph_torch or self.torch)
        return lambda *xs: fn(*[g(x) for g, x in zip(gentle, xs)])


def _pow_masked_branch(point, index, ours, theirs):
    """PyTorch's pow rule masks its branches (d/da is 0 where b == 0; d/db is 0 where a == 0),
    and its double backward sends a zero through the masked branch, where 0 * inf or
    0 * log(negative) turns it into nan, and 0 * (b - 1) = 0 * -1 into -0.0. Ours takes only
    the selected branch, so it gives the mathematically expected +0 there."""
    a, b = point
    masked = math.isnan(theirs) or (theirs == 0 and math.copysign(1.0, theirs) < 0)
    positive_zero = ours == 0 and math.copysign(1.0, ours) > 0
    return len(index) == 2 and (a == 0 or b == 0) and masked and positive_zero


def _bce_with_logits(a, b):
    """PyTorch's binary_cross_entropy_with_logits number by number, on tensors or numbers
    of any shapes that broadcast (it takes only a target of the logits' own shape)."""
    as_tensor = lambda x: torch.as_tensor(x, dtype=torch.float64)
    a, b = torch.broadcast_tensors(as_tensor(a), as_tensor(b))
    return torch.nn.functional.binary_cross_entropy_with_logits(a, b, reduction="none")


def _leaky_relu_kink(point, index, ours, theirs):
    """At the kink a == 0, 0 and 1 are both valid values of d2/da dalpha; PyTorch's prelu
    double backward picks 0, ours picks 1 (the side the forward takes for a <= 0)."""
    return sorted(index) == [0, 1] and point[0] == 0 and ours == 1 and theirs == 0


def _prelu(a, alpha):
    # PReLU is leaky ReLU with a learnable slope: torch's oracle for both gradients
    if not isinstance(alpha, torch.Tensor):
        alpha = torch.tensor(float(alpha), dtype=torch.float64)
    return torch.nn.functional.prelu(a.reshape(1), alpha.reshape(1)).reshape(())


def _maximum(a, b):
    return torch.maximum(a, torch.as_tensor(b, dtype=torch.float64))


def _max_pool(a, b):
    """max_pool1d over the window [a, b], for numbers or for vectors of them."""
    b = b if isinstance(b, torch.Tensor) else torch.tensor(float(b), dtype=torch.float64)
    a, b = torch.broadcast_tensors(a, b)
    window = torch.stack([a, b], dim=-1).reshape(-1, 1, 2)
    return torch.nn.functional.max_pool1d(window, 2).reshape(a.shape)


def _tame_exponent(b):
    return b if isinstance(b, float) else b.tanh()


INF, NAN = math.inf, math.nan
# pow also needs fractional and negative exponents of negative bases, and huge results.
POW_POINTS = AWKWARD_BINARY + [(-8.0, 1 / 3), (-8.0, 3.0), (-2.0, -3.0), (0.0, -0.5), (-0.0, -1.0)]
POW_POINTS += [(10.0, 400.0), (-10.0, 401.0), (0.5, -2000.0), (2.0, 0.5), (1.0, NAN)]
LEAKY = [(a, alpha) for a in AWKWARD_UNARY for alpha in (0.01, 0.2, -0.5)]
NEGATIVE, NEGATIVE_PAIR = [(-0.4,)], [(-0.4, -1.1)]

CASES: dict[str, OpCase] = {
    "add": OpCase(lambda a, b: a + b, lambda a, b: a + b, smooth=NEGATIVE_PAIR),
    "sub": OpCase(lambda a, b: a - b, lambda a, b: a - b, smooth=NEGATIVE_PAIR),
    "mul": OpCase(lambda a, b: a * b, lambda a, b: a * b, smooth=NEGATIVE_PAIR),
    "div": OpCase(
        lambda a, b: a / b,
        lambda a, b: a / b,
        smooth=NEGATIVE_PAIR,
        gentle=(_same, lambda b: b * b + 0.5),
    ),
    "neg": OpCase(lambda a: -a, lambda a: -a, smooth=NEGATIVE),
    "pow": OpCase(
        lambda a, b: a**b,
        lambda a, b: a**b,
        POW_POINTS,
        smooth=[(0.6, -1.5)],
        gentle=(lambda a: abs(a) + 0.5, _tame_exponent),
        known_difference=_pow_masked_branch,
    ),
    "abs": OpCase(abs, torch.abs, smooth=NEGATIVE),
    "exp": OpCase(Value.exp, torch.exp, smooth=NEGATIVE, gentle=(lambda a: a * 0.5,)),
    "log": OpCase(Value.log, torch.log, gentle=(lambda a: abs(a) + 0.5,)),
    "log1p": OpCase(
        Value.log1p,
        torch.log1p,
        AWKWARD_UNARY + [-1.0 + 1e-12, -1.5, -1e-300, 1e-17],
        smooth=NEGATIVE,
        gentle=(lambda a: abs(a) - 0.5,),
    ),
    "sqrt": OpCase(Value.sqrt, torch.sqrt, gentle=(lambda a: abs(a) + 0.1,)),
    "sin": OpCase(Value.sin, torch.sin, smooth=NEGATIVE),
    "cos": OpCase(Value.cos, torch.cos, smooth=NEGATIVE),
    "tanh": OpCase(Value.tanh, torch.tanh, smooth=NEGATIVE),
    "sigmoid": OpCase(Value.sigmoid, torch.sigmoid, smooth=NEGATIVE),
    "relu": OpCase(Value.relu, torch.relu, smooth=NEGATIVE),
    "leaky_relu": OpCase(
        lambda a, alpha: a.leaky_relu(alpha),
        _prelu,
        LEAKY,
        smooth=[(-0.4, 0.2)],
        known_difference=_leaky_relu_kink,
        # random graphs land on the kink whenever a relu feeds it, where prelu's double
        # backward disagrees with its own first derivative; this form agrees with itself
        graph_torch=lambda a, alpha: torch.where(a > 0, a, a * alpha),
    ),
    "maximum": OpCase(lambda a, b: a.maximum(b), _maximum, smooth=NEGATIVE_PAIR),
    # PyTorch's own max pooling over the window [a, b] is the oracle
    "first_max": OpCase(lambda a, b: a.first_max(b), _max_pool, smooth=NEGATIVE_PAIR),
    "bce_with_logits": OpCase(
        lambda a, b: OPS["bce_with_logits"](a, b), _bce_with_logits, smooth=NEGATIVE_PAIR
    ),
    "stop_gradient": OpCase(Value.stop_gradient, torch.Tensor.detach, slope=False),
}

# The random-graph generators: each op on a gentle domain, on Values and on tensors.
GRAPH_FORMS = {
    name: (case.graph_form(OPS[name].arity, 0), case.graph_form(OPS[name].arity, 1))
    for name, case in CASES.items()
}

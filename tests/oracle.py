"""Comparison against PyTorch float64: the suite's oracle."""

from __future__ import annotations

import math

import torch

torch.set_default_dtype(torch.float64)


def tensors(*xs: float) -> list[torch.Tensor]:
    """Leaf tensors (float64, requiring grad) holding xs."""
    return [torch.tensor(float(x), dtype=torch.float64, requires_grad=True) for x in xs]


def torch_grads(out: torch.Tensor, inputs, create_graph: bool = False) -> list:
    """d out / d x for each x in inputs (0 where out does not depend on x, or only through a
    detach)."""
    if not out.requires_grad:
        return [torch.zeros((), dtype=torch.float64) for _ in inputs]
    grads = torch.autograd.grad(
        out, inputs, allow_unused=True, create_graph=create_graph, retain_graph=True
    )
    return [torch.zeros((), dtype=torch.float64) if g is None else g for g in grads]


def same(ours: float, theirs: float, rel: float = 1e-12, abs_tol: float = 0.0) -> bool:
    """ours equals theirs to a relative tolerance, nan matching nan, inf matching inf, and,
    when no absolute tolerance is given, a zero matching only a zero of the same sign
    (1 / -0.0 is -inf: the sign is part of the result)."""
    ours, theirs = float(ours), float(theirs)
    if math.isnan(theirs) or math.isnan(ours):
        return math.isnan(theirs) and math.isnan(ours)
    if math.isinf(theirs) or math.isinf(ours):
        return ours == theirs
    if ours == 0 and theirs == 0 and abs_tol == 0:
        return math.copysign(1.0, ours) == math.copysign(1.0, theirs)
    return abs(ours - theirs) <= rel * abs(theirs) + abs_tol


def same_grad(ours: float, theirs: float, rel: float = 1e-12, abs_tol: float = 0.0) -> bool:
    """same() for a gradient read from a leaf's .grad, where the sign of a zero is not
    compared: .grad starts at +0.0 (so that it prints as 0.0), PyTorch's starts as None, so
    a -0.0 arriving becomes 0.0 + -0.0 = +0.0 here and stays -0.0 there. grad() has no such
    start, and test_ops checks that it gives PyTorch's signs of zero exactly."""
    if float(ours) == 0 and float(theirs) == 0:
        return True
    return same(ours, theirs, rel, abs_tol)

"""Comparison against PyTorch float64: the suite's oracle."""

from __future__ import annotations

import math

import torch

torch.set_default_dtype(torch.float64)


def tensors(*xs: float) -> list[torch.Tensor]:
    """Leaf tensors (float64, requiring grad) holding xs."""
    return [torch.tensor(float(x), dtype=torch.float64, requires_grad=True) for x in xs]


def torch_grads(out: torch.Tensor, inputs, create_graph: bool = False) -> list:
    """d out / d x for each x in inputs (0 where out does not depend on x)."""
    grads = torch.autograd.grad(
        out, inputs, allow_unused=True, create_graph=create_graph, retain_graph=True
    )
    return [torch.zeros((), dtype=torch.float64) if g is None else g for g in grads]


def same(ours: float, theirs: float, rel: float = 1e-12, abs_tol: float = 0.0) -> bool:
    """ours equals theirs to a relative tolerance, nan matching nan and inf matching inf."""
    ours, theirs = float(ours), float(theirs)
    if math.isnan(theirs) or math.isnan(ours):
        return math.isnan(theirs) and math.isnan(ours)
    if math.isinf(theirs) or math.isinf(ours):
        return ours == theirs
    return abs(ours - theirs) <= rel * abs(theirs) + abs_tol

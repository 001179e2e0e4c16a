"""Checking a whole model against PyTorch: ``assert_module_matches_torch``.

The model goes to PyTorch through ``to_torch`` (float64, the same weights); the same batch
runs through both, and every output, the loss and every parameter's gradient, by the
parameter's name, must agree. (One function or one op: ``micrograd.testing``.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from micrograd.testing import agree, check_tolerances, torch_module, with_gradients_on

from . import functional as F
from .module import Module
from .torch_bridge import parameter_pairs, to_torch

__all__ = ["assert_module_matches_torch"]


def _torch_losses(torch) -> dict[str, Callable]:
    """PyTorch's version of each loss in nn.LOSSES, on the (batch, outputs) tensor."""
    TF = torch.nn.functional

    def one_column(out):
        return out.squeeze(-1) if out.dim() == 2 and out.shape[-1] == 1 else out

    return {
        "mse": lambda out, t: TF.mse_loss(one_column(out), t),
        "hinge": lambda out, t: torch.relu(1 - t * one_column(out)).mean(),
        "cross_entropy": lambda out, t: TF.cross_entropy(out, t.long()),
        "binary_cross_entropy": lambda out, t: TF.binary_cross_entropy(one_column(out), t),
        "binary_cross_entropy_with_logits": lambda out, t: TF.binary_cross_entropy_with_logits(
            one_column(out), t
        ),
    }


_OUR_LOSSES = {
    "mse": F.mse_loss,
    "hinge": F.hinge_loss,
    "cross_entropy": F.cross_entropy,
    "binary_cross_entropy": F.binary_cross_entropy,
    "binary_cross_entropy_with_logits": F.binary_cross_entropy_with_logits,
}


def _leaves(output) -> list:
    """A sample's outputs in order: one Value, a list of them, or an image's nested lists
    [channels][height][width], as torch's reshape reads its tensor."""
    if isinstance(output, (list, tuple)):
        return [leaf for item in output for leaf in _leaves(item)]
    return [output]


@with_gradients_on
def assert_module_matches_torch(
    model: Module,
    inputs: Sequence,
    targets: Sequence | None = None,
    loss: str | tuple[Callable, Callable] | None = None,
    rtol: float = 1e-10,
    atol: float = 1e-12,
) -> None:
    """model and to_torch(model) agree on the batch inputs (one sample per row, flat or an
    image [channels][height][width]): every
    output, the loss and the gradient of every parameter, by name; else AssertionError.

    ``loss`` is a name in nn.LOSSES (with ``targets``), a pair (ours on the list of outputs,
    theirs on the (batch, outputs) tensor), or None: the sum of every output. The model's
    .grad are left holding the loss's gradient."""
    torch = torch_module()
    check_tolerances("assert_module_matches_torch", rtol=rtol, atol=atol)
    samples = np.asarray(inputs, dtype=np.float64)  # one row per sample, of any shape
    outputs = [model(sample.tolist() if sample.ndim else float(sample)) for sample in samples]
    torch_model = to_torch(model)
    torch_outputs = torch_model(torch.tensor(samples, dtype=torch.float64))
    problems = []
    for i, (ours, theirs) in enumerate(zip(outputs, torch_outputs.reshape(len(samples), -1))):
        ours, theirs = [getattr(v, "data", v) for v in _leaves(ours)], theirs.tolist()
        if len(ours) != len(theirs):  # zip would compare the shorter and pass
            problems.append((f"number of outputs of sample {i}", len(ours), len(theirs)))
        for k, (o, t) in enumerate(zip(ours, theirs)):
            if not agree(o, t, rtol, atol):
                problems.append((f"output {k} of sample {i}", o, t))
    if loss is None:
        ours_loss = sum(v for out in outputs for v in _leaves(out))
        torch_loss = torch_outputs.sum()
    elif isinstance(loss, str):
        if loss not in _OUR_LOSSES or targets is None:
            raise ValueError(
                f"assert_module_matches_torch: loss must be one of {sorted(_OUR_LOSSES)} "
                f"with targets, or a pair of functions, got {loss!r}"
            )
        ours_loss = _OUR_LOSSES[loss](outputs, list(targets))
        t_targets = torch.tensor([float(t) for t in targets], dtype=torch.float64)
        torch_loss = _torch_losses(torch)[loss](torch_outputs, t_targets)
    else:
        ours_fn, torch_fn = loss
        ours_loss, torch_loss = ours_fn(outputs), torch_fn(torch_outputs)
    if not agree(ours_loss.data, torch_loss.item(), rtol, atol):
        problems.append(("loss", ours_loss.data, torch_loss.item()))
    model.zero_grad()
    ours_loss.backward()
    torch_loss.backward()
    torch_params = dict(torch_model.named_parameters(remove_duplicate=False))  # tied: each name
    for name, value, torch_name, index in parameter_pairs(model, torch_model):
        theirs = torch_params[torch_name].grad[index].item()
        if not agree(value.grad, theirs, rtol, atol):
            problems.append((f"d loss / d {name}", value.grad, theirs))
    if problems:
        width = max(len(what) for what, _, _ in problems)
        lines = [f"  {what:{width}}  ours {o!r:24}  torch {t!r}" for what, o, t in problems[:30]]
        more = [f"  ... and {len(problems) - 30} more"] if len(problems) > 30 else []
        raise AssertionError(
            f"{type(model).__name__} and PyTorch disagree ({len(problems)} numbers):\n"
            + "\n".join(lines + more)
        )

"""Kernels: a few rows' rules on numpy arrays, in fewer passes over memory.

micrograd.compile applies each op's rule from ``micrograd.ops`` to arrays, one numpy call per
elementary function of the rule. For relu and the two maxima of pooling and softmax that is
a comparison, then a select (``where``), each a pass over arrays of up to millions of
numbers; in a convolutional network these ops are most of the work. A kernel gets the rule's
numbers, bit for bit, in fewer passes:

* **forward**: one ``np.maximum``. It gives the rule's number except where the rule chooses
  between two numbers that compare equal but differ in their bits (+0.0 and -0.0) or picks a
  nan, which numpy's vector and scalar loops may choose differently. A kernel then looks
  for those (a nan in its result, a -0.0 among its inputs, each found by one reduction)
  and, if there is one, runs the rule itself.
* **derivative**: a select by integer multiplication, a float's bits times 1 or 0, which is
  its bits or +0.0's: exactly what the rule's ``where`` picks, without a branch per number.
  The select goes by a mask (where relu passes its gradient, where the later input of a
  maximum wins) that the runner makes in the forward pass, right after the forward, while
  the step's arrays are still in cache, and keeps for the backward pass. The backward pass
  then reads a byte a number of mask, where it would read eight of the outputs or inputs,
  long since gone from cache. On a relu of 64 x 1,797 numbers (the digits MLP) the forward
  step takes about 30 us more and the backward step 55 us less; the digits CNN's epoch is
  about 4% shorter. A chunk's masks take an eighth of the space of the rows they cover.

The runner calls a kernel on big arrays only (``runner.KERNEL_NUMBERS``): on a small one its
extra calls can cost more than the passes they save. The rule stays the definition.
``tests/test_kernels.py`` checks every kernel against its rule on arrays of awkward numbers
(signed zeros, infinities, nan payloads, ties), bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .arraymath import ARRAY
from .ops import FIRST_MAX, MAXIMUM, RELU, Op

__all__ = ["KERNELS", "Kernel", "kernel_of"]

_NEGATIVE_ZERO = np.iinfo(np.int64).min  # -0.0's bits, the least of all int64 numbers


@dataclass(frozen=True)
class Kernel:
    """op's rule in fewer passes. forward(out, *inputs) writes op(*inputs) into out. A kernel
    with a derivative has two functions for it: mask(out, *inputs), a bool array that says
    which number the rule's ``where`` picks, and select(g, mask, into), one gradient per
    input, as the rule's derivative returns them, the k-th written into into[k] instead of a
    new array where into[k] is not None (the rows of other nodes than g's and the inputs').
    A kernel without them leaves the derivative to the rule."""

    op: Op
    forward: Callable
    mask: Callable | None = None
    select: Callable | None = None
    in_place: bool = False  # may the output overwrite the input? (the mask reads out)


def _bits(x: np.ndarray) -> np.ndarray:
    return x.view(np.int64)


def _has_negative_zero(x: np.ndarray) -> bool:
    return x.size > 0 and _bits(x).min() == _NEGATIVE_ZERO


def _has_nan(x: np.ndarray) -> bool:
    top = x.max() if x.size else 0.0  # nan if x holds one
    return top != top


def _maximum_or_rule(op: Op):
    """The forward of an op whose rule is a maximum with its own choice on ties and nan."""

    def forward(out: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
        np.maximum(a, b, out=out)
        # np.maximum may pick either of +0.0 and -0.0, and either nan: the rule decides there
        if _has_nan(out) or _has_negative_zero(a) or _has_negative_zero(b):
            out[...] = op.forward(ARRAY, a, b)

    return forward


def _relu_forward(out: np.ndarray, a: np.ndarray) -> None:
    # a is looked at first: out may be a itself (see Kernel.in_place)
    if _has_nan(a) or _has_negative_zero(a):  # relu(-0.0) is -0.0, a nan is a's own
        out[...] = RELU.forward(ARRAY, a)
    else:  # relu(a) is a's maximum with +0.0
        np.maximum(a, 0.0, out=out)


def _keep(mask: np.ndarray, g: np.ndarray, into: np.ndarray | None) -> np.ndarray:
    """g where mask, +0.0 elsewhere (the rule's where(mask, g, 0.0)): g's bits times 1 or 0."""
    # mask is cast to int64 a buffer at a time inside the loop: no int64 copy of it is made
    bits = np.multiply(_bits(g), mask, dtype=np.int64, out=_destination(into))
    return bits.view(np.float64)


def _destination(into: np.ndarray | None) -> np.ndarray | None:
    return None if into is None else _bits(into)


def _relu_mask(out: np.ndarray, a: np.ndarray) -> np.ndarray:
    passes = np.less_equal(out, 0.0)  # where the rule sends +0.0 back...
    return np.logical_not(passes, out=passes)  # ...and where g: out > 0, or a nan


def _relu_select(g, passes, into) -> tuple:
    return (_keep(passes, g, into[0]),)


def _first_max_mask(out: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    later = np.greater(b, a)  # the rule's _later_wins: b > a, or b is nan
    if _has_nan(b):
        later |= np.isnan(b)
    return later


def _first_max_select(g, later, into) -> tuple:
    to_b = _keep(later, g, into[1])
    # g's bits less g's bits or less 0: +0.0 where b wins, g where a does
    to_a = np.subtract(_bits(g), _bits(to_b), out=_destination(into[0]))
    return to_a.view(np.float64), to_b


KERNELS: tuple[Kernel, ...] = (
    Kernel(RELU, _relu_forward, _relu_mask, _relu_select, in_place=True),
    Kernel(FIRST_MAX, _maximum_or_rule(FIRST_MAX), _first_max_mask, _first_max_select),
    Kernel(MAXIMUM, _maximum_or_rule(MAXIMUM)),
)
"""The ops that have a kernel, each a row of micrograd.ops.OPS."""


def kernel_of(op) -> Kernel | None:
    """op's kernel, if it has one: found by identity, so that an op of one's own with the same
    symbol keeps its own rule."""
    return next((kernel for kernel in KERNELS if kernel.op is op), None)

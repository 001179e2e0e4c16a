"""The ops' rules on numpy arrays: ``ARRAY`` is the namespace ``F`` of ``micrograd.ops`` for
float64 arrays, so the same forward and derivative rules that run on one float in the eager
engine run here on one array per slot, holding that slot's number for every sample.

numpy is imported by the compiler's modules only, so ``import micrograd`` stays free of it.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np


def _sign(x):
    """-1, 0 or 1 by the sign of x, 0 for nan (as ops.fsign, and torch.sign)."""
    return np.greater(x, 0).astype(np.float64) - np.less(x, 0)


def _identity(x):
    return x


def _pow(a, b):
    """a ** b as C's pow, element by element, as the float rules compute it. numpy takes a
    constant exponent of 0.5 as a square root (and 2, -1 likewise), which differs from pow at
    -inf and -0.0; an exponent array with an entry per element is never taken so."""
    shape = np.broadcast_shapes(np.shape(a), np.shape(b))
    return np.power(a, np.array(np.broadcast_to(b, shape), dtype=np.float64))


# Every function follows IEEE (inf, nan) as the float rules do, provided numpy's warnings
# are silenced, which the runner does around every pass.
ARRAY = SimpleNamespace(
    div=np.divide,
    pow=_pow,
    exp=np.exp,
    log=np.log,
    log1p=np.log1p,
    sqrt=np.sqrt,
    sin=np.sin,
    cos=np.cos,
    tanh=np.tanh,
    sign=_sign,
    where=np.where,
    plain=_identity,
)
ARRAY.__doc__ = "The rules' elementary functions on float64 numpy arrays."

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


def _where(cond, x, y):
    """np.where(cond, x, y), bit for bit, for float64 numbers. A big array is picked on the
    numbers' int64 views, their bits times cond's 1 or 0, rather than by a branch per
    element: on the random masks of relu and max pooling np.where mispredicts about every
    other branch. Small arrays keep np.where, whose one call is cheaper than these few."""
    if not (isinstance(cond, np.ndarray) and cond.dtype == np.bool_ and cond.size >= BIG):
        return np.where(cond, x, y)
    x, y = np.asarray(x), np.asarray(y)
    if not (_is_float_or_scalar(x) and _is_float_or_scalar(y)):
        return np.where(cond, x, y)
    shape = np.broadcast_shapes(cond.shape, x.shape, y.shape)
    xb, yb = (np.asarray(v, dtype=np.float64).view(np.int64) for v in (x, y))
    # numpy casts cond to int64 a buffer at a time inside each product: no int64 copy of it
    if y.ndim == 0 and _is_plus_zero(y):  # x where cond, else +0.0, whose bits are all 0
        out = np.multiply(xb, cond, dtype=np.int64)
    elif x.ndim == 0 and _is_plus_zero(x):
        out = np.multiply(yb, np.logical_not(cond), dtype=np.int64)
    else:  # y ^ ((x ^ y) * cond): x's bits where cond, y's elsewhere
        out = np.bitwise_xor(xb, yb)
        if out.shape != shape:
            out = np.array(np.broadcast_to(out, shape))
        np.multiply(out, cond, out=out, dtype=np.int64)
        np.bitwise_xor(out, yb, out=out)
    return out.view(np.float64)  # a scalar's branch broadcasts the other two: shape already


# Numbers in an array from which a select by bits beats np.where, and a kernel of
# micrograd.kernels its op's rule (the runner's KERNEL_NUMBERS). np.where costs a branch per
# number: it is the faster on small arrays, and on masks the branch predictor has learnt (a
# full batch of the same 100 points, epoch after epoch), but on masks that change from call
# to call it mispredicts half of them and falls behind from about a thousand numbers (2,048:
# 8.3 us against 5.3; 8,192: 31 us against 9).
BIG = 1 << 11


def _is_float_or_scalar(v: np.ndarray) -> bool:
    return v.dtype == np.float64 or (v.ndim == 0 and v.dtype.kind in "if")


def _is_plus_zero(v: np.ndarray) -> bool:
    return float(v) == 0.0 and not np.signbit(v)


# Every function follows IEEE (inf, nan) as the float rules do, provided numpy's warnings
# are silenced, which the runner does around every run.
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
    sigmoid=lambda a: np.divide(1.0, 1.0 + np.exp(-a)),
    sign=_sign,
    where=_where,
    plain=_identity,
)
ARRAY.__doc__ = "The rules' elementary functions on float64 numpy arrays."

"""The rules' elementary functions on Python floats, with PyTorch's float64 answers.

Every op's forward and derivative is written against a namespace ``F`` (see micrograd.ops);
``FLOAT`` is that namespace for plain floats. Where Python would raise (ZeroDivisionError,
OverflowError, "math domain error") or give a complex number, these give what PyTorch gives
in float64: ``inf``, ``-inf`` or ``nan``.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

INF = math.inf
NAN = math.nan


def _is_odd_integer(x: float) -> bool:
    return x == x and not math.isinf(x) and x == int(x) and int(x) % 2 == 1


def fdiv(a: float, b: float) -> float:
    """a / b, with a / 0 = +-inf and 0 / 0 = nan."""
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0:
            return NAN
        return math.copysign(INF, a) * math.copysign(1.0, b)


def fpow(a: float, b: float) -> float:
    """a ** b as C's pow: 0 ** -1 = inf, (-8) ** (1/3) = nan, 10 ** 400 = inf."""
    try:
        return math.pow(a, b)
    except OverflowError:
        return -INF if a < 0 and _is_odd_integer(b) else INF
    except ValueError:  # a pole at zero, or a negative base with a fractional exponent
        if a == 0:
            return math.copysign(INF, a) if _is_odd_integer(b) else INF
        return NAN


def fexp(a: float) -> float:
    """e ** a, inf past the largest float."""
    try:
        return math.exp(a)
    except OverflowError:
        return INF


def flog(a: float) -> float:
    """Natural log: log(0) = -inf, log(negative) = nan."""
    try:
        return math.log(a)
    except ValueError:
        return -INF if a == 0 else NAN


def flog1p(a: float) -> float:
    """log(1 + a), exact for tiny a: log1p(-1) = -inf, log1p(a < -1) = nan."""
    try:
        return math.log1p(a)
    except ValueError:
        return -INF if a == -1 else NAN


def fsqrt(a: float) -> float:
    """Square root: sqrt(negative) = nan."""
    try:
        return math.sqrt(a)
    except ValueError:
        return NAN


def fsin(a: float) -> float:
    """sin(a): sin(+-inf) = nan."""
    try:
        return math.sin(a)
    except ValueError:
        return NAN


def fcos(a: float) -> float:
    """cos(a): cos(+-inf) = nan."""
    try:
        return math.cos(a)
    except ValueError:
        return NAN


def fsign(a: float) -> float:
    """-1, 0 or 1 by the sign of a (0 for nan, as torch.sign)."""
    if a > 0:
        return 1.0
    if a < 0:
        return -1.0
    return 0.0


def fwhere(condition, if_true, if_false):
    """if_true where condition holds, else if_false."""
    return if_true if condition else if_false


def fsigmoid(a: float) -> float:
    """1 / (1 + e**-a), the sigmoid row's forward: exactly 0 for very negative a."""
    return fdiv(1.0, 1.0 + fexp(-a))


def _identity(x):
    return x


FLOAT = SimpleNamespace(
    div=fdiv,
    pow=fpow,
    exp=fexp,
    log=flog,
    log1p=flog1p,
    sqrt=fsqrt,
    sin=fsin,
    cos=fcos,
    tanh=math.tanh,
    sigmoid=fsigmoid,
    sign=fsign,
    where=fwhere,
    plain=_identity,
)
FLOAT.__doc__ = "The rules' elementary functions on Python floats."

"""The primitive operations: one row per op, its forward next to its derivative.

Every rule is written once, against a namespace ``F`` of elementary functions, so the
same text runs on three kinds of numbers:

* Python floats, for a plain ``backward()`` (``FLOAT`` below);
* Values, for ``backward(create_graph=True)``, which is how higher derivatives come free
  (``micrograd.engine.VALUE``);
* numpy arrays, for ``micrograd.compile``, which replays a traced graph over a batch.

``+ - *`` and unary ``-`` work on all three directly. Anything that can divide by zero,
overflow or leave the real line goes through ``F``, which gives PyTorch's float64 answer
(``inf``, ``-inf`` or ``nan``) where plain Python would raise.

A forward is ``forward(F, *inputs) -> output``; a derivative is
``derivative(F, grad, out, *inputs) -> tuple``: one gradient per input, in input order.
Receiving ``out`` keeps exp, tanh and sigmoid cheap. Conditions are built from
``F.plain(x)``, the number without its graph, because ``==`` on a Value is identity.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from types import SimpleNamespace

INF = math.inf
NAN = math.nan


class Op(str):
    """A primitive operation. The string itself is the op's short name (``"+"``, ``"exp"``),
    so code that reads ``node._op`` as a string (as karpathy/micrograd's does) keeps working,
    while the engine finds the rule on the same object."""

    forward: Callable
    derivative: Callable
    arity: int
    doc: str

    def __new__(cls, name: str, arity: int, forward: Callable, derivative: Callable, doc: str = ""):
        if arity not in (0, 1, 2):
            raise ValueError(f"Op({name!r}): a scalar op takes 1 or 2 inputs, got arity {arity}")
        op = super().__new__(cls, name)
        op.arity = arity
        op.forward = forward
        op.derivative = derivative
        op.doc = doc
        return op

    # Each Op is unique: compare and hash by identity, so two ops that print alike
    # (a leaf and a constant both print as "") are still told apart by the engine.
    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"Op({str.__repr__(self)})"

    # The engine tells ops apart with `is`, so a copied or unpickled graph must hold the very
    # same Op objects: copies are the op itself, and a pickle names the table's row.
    def __copy__(self) -> Op:
        return self

    def __deepcopy__(self, memo: dict) -> Op:
        return self

    def __reduce__(self):
        key = _KEYS.get(self)
        if key is None:
            raise TypeError(
                f"cannot pickle {self!r}: only the ops of micrograd.ops.OPS can be found again "
                "by name when unpickled"
            )
        return (_op_named, (key,))


def _op_named(key: str) -> Op:
    """The table's Op for a key written by Op.__reduce__."""
    return _BY_KEY[key]


def _no_derivative(F, grad, out):  # leaves have no inputs, so no gradients to hand on
    return ()


LEAF = Op("", 0, None, _no_derivative, "a Value made by the user: a parameter or an input")
CONST = Op("", 0, None, _no_derivative, "a plain number lifted into the graph by an operation")


# ---------------------------------------------------------------------------------------
# Float arithmetic with PyTorch float64 semantics: never ZeroDivisionError, OverflowError,
# "math domain error" or a complex number.


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
    sign=fsign,
    where=fwhere,
    plain=_identity,
)
FLOAT.__doc__ = "The rules' elementary functions on Python floats."


# ---------------------------------------------------------------------------------------
# The table. Read one row and you know everything about the op.

ADD = Op("+", 2, lambda F, a, b: a + b, lambda F, g, out, a, b: (g, g), "a + b")
# a - b is one fused node rather than a + (-b): losses are full of differences.
SUB = Op("-", 2, lambda F, a, b: a - b, lambda F, g, out, a, b: (g, -g), "a - b")
MUL = Op("*", 2, lambda F, a, b: a * b, lambda F, g, out, a, b: (g * b, g * a), "a * b")
# a / b is fused rather than a * b ** -1: it is exact where the composition rounds twice.
DIV = Op(
    "/",
    2,
    lambda F, a, b: F.div(a, b),
    lambda F, g, out, a, b: (F.div(g, b), -g * F.div(out, b)),
    "a / b",
)
NEG = Op("neg", 1, lambda F, a: -a, lambda F, g, out, a: (-g,), "-a")
POW = Op(
    "**",
    2,
    lambda F, a, b: F.pow(a, b),
    lambda F, g, out, a, b: (
        # d/da a**b = b * a**(b-1), taken as 0 where b == 0 (PyTorch does the same)
        F.where(F.plain(b) == 0, 0.0, g * (b * F.pow(a, b - 1))),
        # d/db a**b = a**b * log(a), taken as 0 where a == 0 and b >= 0
        F.where((F.plain(a) == 0) & (F.plain(b) >= 0), 0.0, g * out * F.log(a)),
    ),
    "a ** b",
)
ABS = Op("abs", 1, lambda F, a: abs(a), lambda F, g, out, a: (g * F.sign(a),), "|a|")
EXP = Op("exp", 1, lambda F, a: F.exp(a), lambda F, g, out, a: (g * out,), "exp(a) = e ** a")
LOG = Op("log", 1, lambda F, a: F.log(a), lambda F, g, out, a: (F.div(g, a),), "log(a), natural")
# log1p is its own op because log(1 + a) loses every digit of a tiny a in the rounding of 1 + a.
LOG1P = Op(
    "log1p", 1, lambda F, a: F.log1p(a), lambda F, g, out, a: (F.div(g, 1 + a),), "log(1 + a)"
)
SQRT = Op("sqrt", 1, lambda F, a: F.sqrt(a), lambda F, g, out, a: (F.div(g, 2 * out),), "sqrt(a)")
SIN = Op("sin", 1, lambda F, a: F.sin(a), lambda F, g, out, a: (g * F.cos(a),), "sin(a)")
COS = Op("cos", 1, lambda F, a: F.cos(a), lambda F, g, out, a: (g * -F.sin(a),), "cos(a)")
TANH = Op(
    "tanh",
    1,
    lambda F, a: F.tanh(a),
    lambda F, g, out, a: (g * (1 - out * out),),
    "tanh(a) = (e**a - e**-a) / (e**a + e**-a)",
)
SIGMOID = Op(
    "sigmoid",
    1,
    # 1 / (1 + e**-a) never loses precision; F.exp turns overflow into inf, so the
    # result is exactly 0 for very negative a instead of an OverflowError.
    lambda F, a: F.div(1.0, 1.0 + F.exp(-a)),
    lambda F, g, out, a: (g * (1 - out) * out,),
    "sigmoid(a) = 1 / (1 + exp(-a))",
)
RELU = Op(
    "relu",
    1,
    lambda F, a: F.where(F.plain(a) <= 0, 0.0, a),
    lambda F, g, out, a: (F.where(F.plain(out) <= 0, 0.0, g),),
    "relu(a) = max(a, 0)",
)
LEAKY_RELU = Op(
    "leaky_relu",
    2,
    lambda F, a, alpha: F.where(F.plain(a) > 0, a, a * alpha),
    lambda F, g, out, a, alpha: (
        F.where(F.plain(a) > 0, g, g * alpha),
        F.where(F.plain(a) > 0, 0.0, g * a),
    ),
    "leaky_relu(a, alpha) = a if a > 0 else alpha * a",
)

# maximum is what lets a loss stay branch-free, so that micrograd.compile can trace it: a
# softmax shifted by its largest logit, a log clamped from below. Ties split the gradient and
# nan wins, as in torch.maximum.
MAXIMUM = Op(
    "maximum",
    2,
    lambda F, a, b: F.where((F.plain(a) >= F.plain(b)) | (F.plain(a) != F.plain(a)), a, b),
    lambda F, g, out, a, b: (
        F.where(F.plain(a) == F.plain(b), g * 0.5, F.where(F.plain(a) < F.plain(b), 0.0, g)),
        F.where(F.plain(a) == F.plain(b), g * 0.5, F.where(F.plain(a) > F.plain(b), 0.0, g)),
    ),
    "maximum(a, b) = a if a >= b else b",
)

OPS: dict[str, Op] = {
    "add": ADD,
    "sub": SUB,
    "mul": MUL,
    "div": DIV,
    "neg": NEG,
    "pow": POW,
    "abs": ABS,
    "exp": EXP,
    "log": LOG,
    "log1p": LOG1P,
    "sqrt": SQRT,
    "sin": SIN,
    "cos": COS,
    "tanh": TANH,
    "sigmoid": SIGMOID,
    "relu": RELU,
    "leaky_relu": LEAKY_RELU,
    "maximum": MAXIMUM,
}
"""Every primitive op by name. The test suite walks this table: an op without a test fails."""

_NAMES = {op: name for name, op in OPS.items()}
_BY_KEY: dict[str, Op] = {**OPS, "leaf": LEAF, "const": CONST}  # what a pickle names
_KEYS = {op: key for key, op in _BY_KEY.items()}


def ops_name(op: Op) -> str:
    """The op's name in OPS (``'mul'`` for ``'*'``), or its symbol for an op outside it."""
    return _NAMES.get(op, str(op))

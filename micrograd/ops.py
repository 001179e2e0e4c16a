"""The primitive operations: one row per op, its forward next to its derivative.

Every rule is written once, against a namespace ``F`` of elementary functions, so the
same text runs on three kinds of numbers:

* Python floats, for a plain ``backward()`` (``micrograd.floatmath.FLOAT``);
* Values, for ``backward(create_graph=True)``, which is how higher derivatives come free
  (``micrograd.engine.VALUE``);
* numpy arrays, for ``micrograd.compile``, which replays a traced graph over a batch
  (``micrograd.arraymath.ARRAY``).

``+ - *`` and unary ``-`` work on all three directly. Anything that can divide by zero,
overflow or leave the real line goes through ``F``, which gives PyTorch's float64 answer
(``inf``, ``-inf`` or ``nan``) where plain Python would raise.

A forward is ``forward(F, *inputs) -> output``; a derivative is
``derivative(F, grad, out, *inputs) -> tuple``: one gradient per input, in input order.
Receiving ``out`` keeps exp, tanh and sigmoid cheap. Conditions are built from
``F.plain(x)``, the number without its graph, because ``==`` on a Value is identity.

Adding an op: write its row here (and add it to ``OPS``), give ``Value`` a method that
applies it (``micrograd.engine``), and give it a case in ``tests/op_cases.py``, from which
``tests/test_ops.py`` checks every row against PyTorch and finite differences. An op of your
own needs only its row: ``SOFTPLUS = Op("softplus", 1, forward, derivative)``, then
``SOFTPLUS(x)``.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Real

from .floatmath import FLOAT


class Op(str):
    """A primitive operation. The string itself is the op's symbol (``"+"``, ``"exp"``), so
    code that reads ``node._op`` as a string, as karpathy/micrograd's does, keeps working;
    the engine finds the rule on the same object and tells ops apart with ``is``.

    ``inputs`` names the inputs as the rules and ``doc`` do (``("a", "b")``);
    ``commutative`` says whether their order can be ignored, as a drawing may;
    ``partials`` writes each local derivative, d out / d input, as a formula in those names
    and ``out`` (``("b", "a")`` for ``a * b``; micrograd.formulas says what a formula may
    hold), which the step-through captions show next to its number, and which
    micrograd.testing.check_op checks against the rule (a formula it cannot read fails the
    check). Without them a caption gives the numbers alone.
    """

    name: str
    arity: int
    forward: Callable
    derivative: Callable
    doc: str
    inputs: tuple[str, ...]
    commutative: bool
    partials: tuple[str, ...] | None

    def __new__(
        cls,
        symbol: str,
        arity: int,
        forward: Callable,
        derivative: Callable,
        doc: str = "",
        *,
        name: str | None = None,
        inputs: tuple[str, ...] | None = None,
        commutative: bool = False,
        partials: tuple[str, ...] | None = None,
    ) -> Op:
        if not isinstance(symbol, str) or not symbol:
            raise TypeError(f"Op: the symbol must be a non-empty string, got {symbol!r}")
        if type(arity) is not int or arity not in (1, 2):  # 1.0 == 1, and True too
            raise ValueError(f"Op({symbol!r}): a scalar op takes 1 or 2 inputs, got {arity!r}")
        if not callable(forward) or not callable(derivative):
            raise TypeError(f"Op({symbol!r}): forward and derivative must be functions")
        inputs = tuple(inputs) if inputs is not None else ("a", "b")[:arity]
        if len(inputs) != arity:
            raise ValueError(f"Op({symbol!r}): {arity} inputs need {arity} names, got {inputs!r}")
        if not all(isinstance(n, str) and n for n in inputs) or len(set(inputs)) != arity:
            raise ValueError(f"Op({symbol!r}): inputs must be distinct names, got {inputs!r}")
        if "out" in inputs:  # partials and captions read "out" as the op's result
            raise ValueError(f"Op({symbol!r}): 'out' names the op's result, not an input")
        if name is not None and (not isinstance(name, str) or not name):
            raise TypeError(f"Op({symbol!r}): name must be a non-empty string, got {name!r}")
        if partials is not None:
            if isinstance(partials, str) or not all(isinstance(f, str) for f in partials):
                raise TypeError(
                    f"Op({symbol!r}): partials must be a tuple of formulas (strings), one per "
                    f"input, got {partials!r}"
                )
            partials = tuple(partials)
            if len(partials) != arity:
                raise ValueError(
                    f"Op({symbol!r}): partials must be {arity} formulas, one per input, got "
                    f"{len(partials)}"
                )
        name = name or symbol
        forward, derivative = _checked(name, forward, derivative)
        op = cls._make(symbol, arity, forward, derivative, doc, name, inputs, commutative)
        op.partials = partials
        return op

    @classmethod
    def _make(cls, symbol, arity, forward, derivative, doc, name, inputs, commutative) -> Op:
        op = str.__new__(cls, symbol)
        op.name, op.arity, op.forward, op.derivative = name, arity, forward, derivative
        op.doc, op.inputs, op.commutative, op.partials = doc, inputs, commutative, None
        return op

    def __call__(self, *inputs):
        """Apply the op: ``EXP(x)`` is ``x.exp()``; plain numbers become constants."""
        from .engine import apply_op  # the engine imports this module, so not at the top

        return apply_op(self, *inputs)

    def __repr__(self) -> str:
        return f"Op({str.__repr__(self)})"

    # The engine tells ops apart with `is`, so a copied or unpickled graph must hold the very
    # same Op objects: copies are the op itself, and a pickle names the table's row.
    def __copy__(self) -> Op:
        return self

    def __deepcopy__(self, memo: dict) -> Op:
        return self

    def __reduce__(self):
        if _BY_KEY.get(self.name) is not self:
            raise TypeError(
                f"cannot pickle {self!r}: only the ops of micrograd.ops.OPS can be found again "
                "by name when unpickled"
            )
        return (_op_named, (self.name,))


class RuleError(TypeError):
    """A rule of one's own returned what is not a number or gradient where it ran."""


def _checked(name: str, forward: Callable, derivative: Callable) -> tuple[Callable, Callable]:
    """An op's rules, checked wherever they run: on floats a forward returns one real number
    (not a complex, text or Value, which would become the node's number), on arrays real
    numbers; a derivative returns a tuple of gradients as _GRADIENTS says, else a RuleError
    naming the op; a rule that raises carries a note naming the op. The table's own rows
    are tested instead, and run unwrapped (see below OPS)."""

    def checked_forward(F, *inputs):
        if F is not FLOAT:  # arrays (micrograd.compile): a real array or number
            out = forward(F, *inputs)
            if type(out) is not float and _kind(out) not in (*_REAL_KINDS, "b"):
                raise RuleError(
                    f"op {name!r}: its forward must return real numbers, got {out!r} on "
                    "arrays; write it with F's functions on the numbers it is given"
                )
            return out
        try:
            out = forward(F, *inputs)
        except Exception as error:  # a ZeroDivisionError says nothing of which op raised it
            if hasattr(error, "add_note"):  # Python 3.11 on; 3.10 raises it as it is
                error.add_note(f"(in the forward of op {name!r} on inputs {inputs})")
            raise
        if not isinstance(out, Real):  # a bool is 0 or 1, as Value(True) is
            raise RuleError(
                f"op {name!r}: its forward must return one real number, got {out!r} on inputs "
                f"{inputs}; write it with F's functions on the numbers it is given"
            )
        try:
            return float(out)  # an int or a numpy number: the node holds a float64
        except OverflowError:  # an int past float range: Python says only "int too large"
            raise ValueError(
                f"op {name!r}: its forward returned an integer too large for a float64 on "
                f"inputs {inputs}"
            ) from None

    def checked_derivative(F, *arguments):
        try:
            local_grads = derivative(F, *arguments)
        except Exception as error:  # as in the forward: name the op that raised
            if hasattr(error, "add_note"):
                error.add_note(f"(in the derivative of op {name!r})")
            raise
        if not isinstance(local_grads, (tuple, list)):
            raise RuleError(
                f"the derivative of op {name!r} returned {local_grads!r}; a rule returns a "
                "tuple of gradients, one per input"
            )
        where = _where(F, arguments[1])
        for g in local_grads:
            if type(g) is not float and not _is_gradient(g, where):
                raise RuleError(  # a complex or text would land in a .grad, None become nan
                    f"the derivative of op {name!r} returned {tuple(local_grads)!r}; {where} "
                    f"each gradient must be {_GRADIENTS[where]}"
                )
        return local_grads

    checked_forward.__wrapped__, checked_derivative.__wrapped__ = forward, derivative
    return checked_forward, checked_derivative


_GRADIENTS = {  # a float is one everywhere (on arrays, one number for all samples)
    "on floats": "one real number",
    "on Values": "a Value or a real number",
    "on arrays": "real numbers (an array, or one number for all)",
}


def _where(F, node_grad) -> str:
    """Which numbers a rule runs on: floats, Values (create_graph) or arrays (compile)."""
    if F is FLOAT:
        return "on floats"
    return "on Values" if isinstance(node_grad, _value_class()) else "on arrays"


def _is_gradient(g, where: str) -> bool:
    """Whether a rule's g (not a float: those always are) is a gradient there (see
    _GRADIENTS). A 0-d array counts as one number on Values, whose rules make it a
    constant, but not on floats, where it would land in a .grad."""
    if where == "on Values" and isinstance(g, _value_class()):
        return True
    kind = _kind(g)
    if where == "on arrays" or (where == "on Values" and getattr(g, "ndim", None) == 0):
        return kind in _REAL_KINDS
    return kind in _REAL_KINDS and isinstance(g, Real)


_REAL_KINDS = ("i", "u", "f")  # numpy's kinds of real numbers; bool ("b") is no gradient


def _kind(x) -> str:
    """numpy's kind of x's numbers ("f", "i", "c", "U", ...): a Python int or float is
    "i" or "f", a bool "b", anything else ""."""
    dtype = getattr(x, "dtype", None)
    if dtype is not None and hasattr(dtype, "kind"):  # numpy arrays and numbers
        return dtype.kind
    if isinstance(x, bool):
        return "b"
    if isinstance(x, (int, float)):
        return "i" if isinstance(x, int) else "f"
    return "f" if isinstance(x, Real) and not isinstance(x, _value_class()) else ""


def _value_class() -> type:
    """micrograd.engine.Value, which imports this module: looked up when first needed."""
    global _VALUE
    if _VALUE is None:
        from .engine import Value

        _VALUE = Value
    return _VALUE


_VALUE: type | None = None


def _op_named(key: str) -> Op:
    """The table's Op for a key written by Op.__reduce__."""
    return _BY_KEY[key]


def _no_derivative(F, grad, out):  # leaves have no inputs, so no gradients to hand on
    return ()


def _leaf_kind(name: str, doc: str) -> Op:
    """The op of a node without inputs; both kinds print as "" (karpathy/micrograd's _op)."""
    return Op._make("", 0, None, _no_derivative, doc, name, (), False)


LEAF = _leaf_kind("leaf", "a Value made by the user: a parameter or an input")
CONST = _leaf_kind("const", "a plain number lifted into the graph by an operation")


# ---------------------------------------------------------------------------------------
# The table. Read one row and you know everything about the op.

ADD = Op(
    "+", 2, lambda F, a, b: a + b, lambda F, g, out, a, b: (g, g), "a + b",
    name="add", commutative=True, partials=("1", "1"),
)  # fmt: skip
# a - b is one fused node rather than a + (-b): losses are full of differences.
SUB = Op(
    "-", 2, lambda F, a, b: a - b, lambda F, g, out, a, b: (g, -g), "a - b",
    name="sub", partials=("1", "-1"),
)  # fmt: skip
MUL = Op(
    "*", 2, lambda F, a, b: a * b, lambda F, g, out, a, b: (g * b, g * a), "a * b",
    name="mul", commutative=True, partials=("b", "a"),
)  # fmt: skip
# a / b is fused rather than a * b ** -1: it is exact where the composition rounds twice.
DIV = Op(
    "/",
    2,
    lambda F, a, b: F.div(a, b),
    lambda F, g, out, a, b: (F.div(g, b), -g * F.div(out, b)),
    "a / b",
    name="div",
    partials=("1 / b", "-out / b"),
)
NEG = Op("neg", 1, lambda F, a: -a, lambda F, g, out, a: (-g,), "-a", partials=("-1",))
POW = Op(
    "**",
    2,
    lambda F, a, b: F.pow(a, b),
    lambda F, g, out, a, b: (
        # d/da a**b = b * a**(b-1), taken as 0 where b == 0 (PyTorch does the same)
        F.where(F.plain(b) == 0, 0.0, g * (b * F.pow(a, b - 1))),
        # d/db a**b = a**b * log(a), taken as 0 where a == 0 and b >= 0; that 0 times g (so
        # -0.0 for a negative g), as PyTorch has it
        g * F.where((F.plain(a) == 0) & (F.plain(b) >= 0), 0.0, out * F.log(a)),
    ),
    "a ** b",
    name="pow",
    partials=("b * a ** (b - 1)", "out * log(a)"),
)
ABS = Op(
    "abs", 1, lambda F, a: abs(a), lambda F, g, out, a: (g * F.sign(a),), "|a|",
    partials=("sign(a)",),
)  # fmt: skip
EXP = Op(
    "exp", 1, lambda F, a: F.exp(a), lambda F, g, out, a: (g * out,), "exp(a) = e ** a",
    partials=("exp(a) = out",),
)  # fmt: skip
LOG = Op(
    "log", 1, lambda F, a: F.log(a), lambda F, g, out, a: (F.div(g, a),), "log(a), natural",
    partials=("1 / a",),
)  # fmt: skip
# log1p is its own op because log(1 + a) loses every digit of a tiny a in the rounding of 1 + a.
LOG1P = Op(
    "log1p", 1, lambda F, a: F.log1p(a), lambda F, g, out, a: (F.div(g, 1 + a),), "log(1 + a)",
    partials=("1 / (1 + a)",),
)  # fmt: skip
SQRT = Op(
    "sqrt", 1, lambda F, a: F.sqrt(a), lambda F, g, out, a: (F.div(g, 2 * out),), "sqrt(a)",
    partials=("1 / (2 * out)",),
)  # fmt: skip
SIN = Op(
    "sin", 1, lambda F, a: F.sin(a), lambda F, g, out, a: (g * F.cos(a),), "sin(a)",
    partials=("cos(a)",),
)  # fmt: skip
COS = Op(
    "cos", 1, lambda F, a: F.cos(a), lambda F, g, out, a: (g * -F.sin(a),), "cos(a)",
    partials=("-sin(a)",),
)  # fmt: skip
TANH = Op(
    "tanh",
    1,
    lambda F, a: F.tanh(a),
    lambda F, g, out, a: (g * (1 - out * out),),
    "tanh(a) = (e**a - e**-a) / (e**a + e**-a)",
    partials=("1 - out ** 2",),
)
SIGMOID = Op(
    "sigmoid",
    1,
    # 1 / (1 + e**-a) never loses precision; F.exp turns overflow into inf, so the
    # result is exactly 0 for very negative a instead of an OverflowError (F.sigmoid)
    lambda F, a: F.sigmoid(a),
    lambda F, g, out, a: (g * (1 - out) * out,),
    "sigmoid(a) = 1 / (1 + exp(-a))",
    partials=("out * (1 - out)",),
)
RELU = Op(
    "relu",
    1,
    # a < 0, not a <= 0: relu(-0.0) is -0.0, as in PyTorch (so 1 / relu(-0.0) is -inf there too)
    lambda F, a: F.where(F.plain(a) < 0, 0.0, a),
    lambda F, g, out, a: (F.where(F.plain(out) <= 0, 0.0, g),),
    "relu(a) = max(a, 0)",
    partials=("1 if out > 0 else 0",),
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
    inputs=("a", "alpha"),
    partials=("1 if a > 0 else alpha", "0 if a > 0 else a"),
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
    commutative=True,
    partials=("1 if a > b, 1/2 if a == b, else 0", "1 if b > a, 1/2 if a == b, else 0"),
)


def _later_wins(F, a, b):
    return (F.plain(b) > F.plain(a)) | (F.plain(b) != F.plain(b))


def _first_max_grads(F, g, a, b):
    later = _later_wins(F, a, b)  # once for both inputs: on arrays it is most of the cost
    return F.where(later, 0.0, g), F.where(later, g, 0.0)


# Max pooling keeps the first of equal numbers, all the gradient to it, as PyTorch's
# max_pool2d does (maximum splits a tie), and a later nan replaces what came before.
FIRST_MAX = Op(
    "first_max",
    2,
    lambda F, a, b: F.where(_later_wins(F, a, b), b, a),
    lambda F, g, out, a, b: _first_max_grads(F, g, a, b),
    "first_max(a, b) = b if b > a or b is nan, else a: on a tie, the first",
    partials=("1 if out is a, else 0", "1 if out is b, else 0"),
)

# The binary cross-entropy of a logit a against a target b, PyTorch's
# binary_cross_entropy_with_logits of one number, is one op so that its gradient is, as
# PyTorch's, sigmoid(a) - b: made of its terms, it was their derivatives' sum,
# (1 - b) - 1 + sigmoid(a) for a < 0, which keeps 16 digits of 1, not of sigmoid(a), and a
# confidently right negative's gradient lost its relative precision (0 below a = -38). The
# forward is those terms as PyTorch adds them, log1p(exp(-|a|)) never overflowing.
BCE_WITH_LOGITS = Op(
    "bce_with_logits",
    2,
    lambda F, a, b: (1 - b) * a + (F.where(F.plain(a) < 0, -a, 0.0) + F.log1p(F.exp(-abs(a)))),
    lambda F, g, out, a, b: (g * (F.sigmoid(a) - b), g * -a),
    "bce_with_logits(a, b) = (1 - b) * a + log(1 + exp(-a)): -log(sigmoid(a)) for b = 1, "
    "-log(1 - sigmoid(a)) for b = 0",
    inputs=("a", "b"),
    partials=("sigmoid(a) - b", "-a"),
)

# stop_gradient is the one op whose derivative is not its forward's slope: the number passes,
# the gradient does not (JAX's stop_gradient; torch's detach, kept in the graph). A backward
# walk stops at it. nn's softmax stops the gradient of its shift by the largest input: the
# shift cancels, so that gradient is zero exactly, and neither engine then walks the max tree
# to hand zeros down it (PyTorch's softmax backward does not either).
STOP_GRADIENT = Op(
    "stop_gradient",
    1,
    lambda F, a: a,
    lambda F, g, out, a: (0.0,),
    "stop_gradient(a) = a, through which no gradient flows back",
    partials=("0",),
)

OPS: dict[str, Op] = {
    op.name: op
    for op in (ADD, SUB, MUL, DIV, NEG, POW, ABS, EXP, LOG, LOG1P, SQRT, SIN, COS, TANH)
    + (SIGMOID, RELU, LEAKY_RELU, MAXIMUM, FIRST_MAX, BCE_WITH_LOGITS, STOP_GRADIENT)
}
"""Every primitive op by name. The test suite walks this table: an op without a test fails."""

_BY_KEY: dict[str, Op] = {**OPS, "leaf": LEAF, "const": CONST}  # what a pickle names
for _row in OPS.values():  # tested rules: run them as written, without _checked's wrappers
    _row.forward, _row.derivative = _row.forward.__wrapped__, _row.derivative.__wrapped__


def ops_name(op: Op) -> str:
    """The op's name (``'mul'`` for ``'*'``): its key in OPS for the table's own ops."""
    return op.name

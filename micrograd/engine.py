"""The engine: a Value wraps one float64 and records every operation on it into a graph.

A node knows its inputs and the op that made it (``_op``, an ``Op`` from ``micrograd.ops``).
Nothing else: no closure per node, no reference from a node back to its output, so a graph
holds no reference cycles and is freed by reference counting the moment it is dropped.

Every op takes one or two inputs, so a node keeps them in two slots, ``_a`` and ``_b``
(None when absent), rather than in a tuple: one object per node instead of two halves both
the memory and the work of Python's cyclic collector, which visits every tracked object.
``_prev`` gives them as a tuple, for code written for karpathy/micrograd and for reading.

Two points let modes (``micrograd.modes``) watch the engine without patching it:

* every op makes its node by calling ``_node``: the bare ``_record`` while no mode is on,
  a recorder that runs the modes' hooks while one is (``_use_recorder``);
* every Python decision on a Value's number (a comparison, ``bool``, ``float``, ``detach``,
  reading ``.data``) is reported to the decision watchers, if there are any
  (``_watch_decisions``). The engine itself reads the number as ``_data``, which is never
  watched; ``.data`` reads the same slot and writes it as a float64 (``_set_data``).

How the pieces fit: ``micrograd.ops`` holds each op's forward and derivative; this module
holds Value and how a node is made; ``micrograd.backward`` applies the chain rule.
"""

from __future__ import annotations

import numbers
import os
import sys
import sysconfig
from functools import cache, partial

from . import ops
from .floatmath import FLOAT
from .operands import checked_label, is_number, operation, to_float, too_large
from .ops import CONST, LEAF, Op

__all__ = ["Value", "apply_op", "slot_names"]


_NO_CLOSURE: dict = {}  # what a Value without a __dict__ holds of closures


# micrograd.compile's, while it traces (see micrograd.tracing): each is told of every leaf
# made, so that a Value made inside a traced function is not taken for a parameter
_leaf_hooks: list = []


class Value:
    """One float64 scalar and the graph of operations that produced it."""

    __slots__ = ("_data", "grad", "label", "_op", "_a", "_b", "__weakref__")

    def __new__(cls, data: float = 0.0, _children: tuple = (), _op: str = "", label: str = ""):
        if _children and cls is Value:  # the lecture's own way of making a node
            return object.__new__(lecture.ClosureNode)
        return object.__new__(cls)

    def __init__(self, data: float, _children: tuple = (), _op: str = "", label: str = "") -> None:
        """A leaf holding data. ``Value(data, (a, b), '+')`` is karpathy's lecture's way of
        making a node by hand, to be given a ``_backward`` closure (see micrograd.lecture)."""
        self._data = data if type(data) is float else to_float(data, "Value()")
        self.grad = 0.0
        self.label = label if label == "" else checked_label(label)
        self._op: Op = LEAF
        self._a: Value | None = None
        self._b: Value | None = None
        if _children:
            lecture.attach(self, _children, _op)
        elif _leaf_hooks:  # micrograd.compile is tracing (in some thread): it is told
            for hook in _leaf_hooks:
                hook(self)

    @property
    def _prev(self) -> tuple[Value, ...]:
        """The inputs, in order, repeats kept (``a + a`` has two)."""
        if self._a is None:
            return ()
        return (self._a,) if self._b is None else (self._a, self._b)

    @property
    def _backward(self):
        """karpathy's node._backward(): calling it hands this node's .grad to its inputs, by
        its op's rule (the chain rule at one node), or by the closure a node made the
        lecture's way was given."""
        closure = getattr(self, "__dict__", _NO_CLOSURE).get("_backward")
        return closure if closure is not None else partial(lecture.step, self)

    @_backward.setter
    def _backward(self, closure) -> None:
        # a node made the lecture's way is a ClosureNode, whose slot takes the closure; an
        # instance of a subclass of one's own keeps it in its __dict__, as his Value does
        try:
            vars(self)["_backward"] = closure
        except TypeError:  # no __dict__: Value itself, or a subclass with __slots__
            kind = type(self).__name__
            raise AttributeError(
                f"{kind}: a _backward closure is held by a node made the lecture's way, "
                f"Value(data, (a, b), op), and this {kind} has no room for one (a leaf or an "
                "op's result takes its op's rule; a subclass with __slots__ needs a "
                "'_backward' slot)"
            ) from None

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        grad = _GRAD.__get__(self, Value)  # the slot itself: showing a Value decides nothing
        return f"Value(data={_shown(self._data)!r}, grad={_shown(grad)!r}{label})"

    def __format__(self, spec: str) -> str:
        return format(self._data, spec) if spec else repr(self)

    def __float__(self) -> float:
        if _watchers:
            _decided(self, "converting with float()")
        return self._data

    def __bool__(self) -> bool:
        # A Value is always true, as an object; while tracing, `if v:` is a decision.
        if _watchers:
            _decided(self, "testing the truth (bool) of")
        return True

    # -- arithmetic ---------------------------------------------------------------------
    # The ops that make up most of every graph (+, -, *, unary -, tanh, relu) compute their
    # forward inline, which the ops' rows say too; the others go through apply_op.

    def __add__(self, other: Value | float) -> Value:
        other = other if type(other) is Value else _operand(other, "+", self)
        return _node(self._data + other._data, self, other, ops.ADD)

    def __radd__(self, other: float) -> Value:
        other = _operand(other, "+", self, reflected=True)
        return _node(other._data + self._data, other, self, ops.ADD)

    def __sub__(self, other: Value | float) -> Value:
        other = other if type(other) is Value else _operand(other, "-", self)
        return _node(self._data - other._data, self, other, ops.SUB)

    def __rsub__(self, other: float) -> Value:
        other = _operand(other, "-", self, reflected=True)
        return _node(other._data - self._data, other, self, ops.SUB)

    def __mul__(self, other: Value | float) -> Value:
        other = other if type(other) is Value else _operand(other, "*", self)
        return _node(self._data * other._data, self, other, ops.MUL)

    def __rmul__(self, other: float) -> Value:
        other = _operand(other, "*", self, reflected=True)
        return _node(other._data * self._data, other, self, ops.MUL)

    def __truediv__(self, other: Value | float) -> Value:
        return _apply(ops.DIV, self, _operand(other, "/", self))

    def __rtruediv__(self, other: float) -> Value:
        return _apply(ops.DIV, _operand(other, "/", self, reflected=True), self)

    def __pow__(self, exponent: Value | float) -> Value:
        return _apply(ops.POW, self, _operand(exponent, "**", self))

    def __rpow__(self, base: float) -> Value:
        return _apply(ops.POW, _operand(base, "**", self, reflected=True), self)

    def __neg__(self) -> Value:
        return _node(-self._data, self, None, ops.NEG)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return _apply(ops.ABS, self)

    def abs(self) -> Value:
        """|self|, as abs(self): torch.Tensor's method name too"""
        return _apply(ops.ABS, self)

    # -- functions ----------------------------------------------------------------------

    def exp(self) -> Value:
        """e ** self"""
        return _apply(ops.EXP, self)

    def log(self) -> Value:
        """natural logarithm; log(0) = -inf, log(x < 0) = nan"""
        return _apply(ops.LOG, self)

    def log1p(self) -> Value:
        """log(1 + self), exact for tiny self; log1p(-1) = -inf, log1p(x < -1) = nan"""
        return _apply(ops.LOG1P, self)

    def sqrt(self) -> Value:
        """self ** 0.5; sqrt(x < 0) = nan"""
        return _apply(ops.SQRT, self)

    def sin(self) -> Value:
        """sin(self)"""
        return _apply(ops.SIN, self)

    def cos(self) -> Value:
        """cos(self)"""
        return _apply(ops.COS, self)

    def tanh(self) -> Value:
        """tanh(x) = (e**x - e**-x) / (e**x + e**-x)"""
        return _node(FLOAT.tanh(self._data), self, None, ops.TANH)

    def sigmoid(self) -> Value:
        """sigmoid(x) = 1 / (1 + exp(-x))"""
        return _apply(ops.SIGMOID, self)

    def relu(self) -> Value:
        """relu(x) = max(x, 0); relu(-0.0) is -0.0, as in PyTorch"""
        data = self._data
        return _node(0.0 if data < 0.0 else data, self, None, ops.RELU)

    def leaky_relu(self, alpha: Value | float = 0.01) -> Value:
        """leaky_relu(x) = x if x > 0 else alpha * x"""
        return _apply(ops.LEAKY_RELU, self, _operand(alpha, "leaky_relu", self))

    def maximum(self, other: Value | float) -> Value:
        """The larger of self and other (nan if either is); at a tie each gets half the
        gradient, as in torch.maximum"""
        return _apply(ops.MAXIMUM, self, _operand(other, "maximum", self))

    def first_max(self, other: Value | float) -> Value:
        """The larger of self and other, self on a tie (all the gradient to it) and other
        if it is nan: the comparison max pooling makes, window entry by window entry"""
        return _apply(ops.FIRST_MAX, self, _operand(other, "first_max", self))

    def stop_gradient(self) -> Value:
        """The same number, through which no gradient flows back (JAX's stop_gradient):
        backward stops here. Unlike detach(), which gives a new leaf, it stays a node of the
        graph, so a drawing shows where the gradient stops and micrograd.compile traces it"""
        return _apply(ops.STOP_GRADIENT, self)

    # -- comparisons compare data; == and hash stay by identity (Values are dict keys) ----

    def __lt__(self, other: Value | float) -> bool:
        if _watchers:
            _decided(self, "comparing (<)")
        return self._data < _compared(other, "<")

    def __le__(self, other: Value | float) -> bool:
        if _watchers:
            _decided(self, "comparing (<=)")
        return self._data <= _compared(other, "<=")

    def __gt__(self, other: Value | float) -> bool:
        if _watchers:
            _decided(self, "comparing (>)")
        return self._data > _compared(other, ">")

    def __ge__(self, other: Value | float) -> bool:
        if _watchers:
            _decided(self, "comparing (>=)")
        return self._data >= _compared(other, ">=")

    __hash__ = object.__hash__

    # -- gradients ----------------------------------------------------------------------

    def backward(self, create_graph: bool = False) -> None:
        """Set ``node.grad = d self / d node`` for every node reachable from self.

        Intermediate nodes show this pass's gradients; leaves (nodes without inputs)
        accumulate across passes until zeroed, as in PyTorch. With ``create_graph`` the
        gradients are Values, so they can be differentiated again. If backward is
        interrupted (Ctrl-C, an error in a rule), every ``.grad`` is still a number and the
        next backward is right; leaves keep what reached them before the interruption, so
        zero them first, as PyTorch would need too.
        """
        backprop.backward(self, create_graph)

    def __reduce_ex__(self, protocol):
        # copy and pickle come here (pickle copies the graph behind the Value, so far as the
        # recursion limit lets it); while tracing, a copy would hold this sample's number
        # for every sample, so the tracer hears of it
        if _watchers:
            _decided(self, "copying or pickling")
        return super().__reduce_ex__(protocol)

    def __deepcopy__(self, memo: dict) -> Value:
        """A copy of this Value and of the graph behind it, node by node with no recursion:
        copy.deepcopy's own way went past the recursion limit at a chain of about a
        thousand ops. Nodes shared in the graph are shared in the copy."""
        if _watchers:
            _decided(self, "copying or pickling")
        return _copy_graph(self, memo)

    def detach(self) -> Value:
        """A new leaf with the same data, cut from the graph."""
        if _watchers:
            _decided(self, "detaching")
        return Value(self._data, label=self.label)


_NODE_SLOTS = frozenset(("_data", "grad", "label", "_op", "_a", "_b"))


def _copy_graph(root: Value, memo: dict) -> Value:
    """root's deep copy (see Value.__deepcopy__), in two passes with one stack: first every
    node reachable from root, through its inputs and through a gradient that is a Value
    (create_graph's, which reads the graph again), gets its twin in memo; then each twin
    takes its node's numbers and its twins of the node's inputs and gradient. A graph made
    into a cycle by hand copies as one too. What else a node holds (a lecture node's
    closure, a subclass's attributes and slots) goes through copy.deepcopy with memo."""
    import copy

    order, stack = [], [root]
    while stack:
        node = stack.pop()
        if id(node) in memo:
            continue
        memo[id(node)] = object.__new__(type(node))
        order.append(node)
        stack.extend(x for x in (node._a, node._b, node.grad) if isinstance(x, Value))
    for node in order:
        twin = memo[id(node)]
        twin._data, twin.label, twin._op = node._data, node.label, node._op
        twin._a = None if node._a is None else memo[id(node._a)]
        twin._b = None if node._b is None else memo[id(node._b)]
        grad = node.grad
        twin.grad = grad if type(grad) is float else copy.deepcopy(grad, memo)
        for name in slot_names(type(node)):
            if name not in _NODE_SLOTS and hasattr(node, name):
                setattr(twin, name, copy.deepcopy(getattr(node, name), memo))
        if hasattr(node, "__dict__"):
            twin.__dict__.update(copy.deepcopy(node.__dict__, memo))
    return memo[id(root)]


@cache
def slot_names(cls: type) -> tuple[str, ...]:
    """The slots cls and its bases declare, but __dict__ and __weakref__, under the names
    Python keeps them by (a private __name becomes _Class__name); worked out once per class
    (nn's parameters() asks every step)."""
    names = []
    for klass in cls.__mro__:
        slots = klass.__dict__.get("__slots__", ())
        for slot in (slots,) if isinstance(slots, str) else slots:
            if slot in ("__dict__", "__weakref__"):
                continue
            private = slot.startswith("__") and not slot.endswith("__")  # Python mangles it
            names.append(f"_{klass.__name__.lstrip('_')}{slot}" if private else slot)
    return tuple(names)


def _shown(x):
    """A number as a Value shows it: a float, as every Value starts (numpy's float64, which
    p.data -= lr * np.float64(g) leaves there, prints as np.float64(0.4) otherwise)."""
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        try:
            return float(x)
        except OverflowError:  # an int past float range, set by hand
            return x
    return x


# ``.data`` is the ``_data`` slot under its public name: a property whose getter is the slot's
# own (in C) and whose setter converts to a float64; while decisions are watched its getter
# reports each read (see _watch_decisions). The library's own writes of numbers that are
# floats already (optimizers, compiled training) go to ``_data``: the setter's check costs a
# Python call, 10 times the slot's write.
_DATA = Value.__dict__["_data"]


def _set_data(value: Value, x) -> None:
    """v.data = x: a float64, as Value(x) makes it (an optimizer's step, weights copied from
    a float32 array); anything else a TypeError (text, None), as in Value()."""
    _DATA.__set__(value, x if type(x) is float else to_float(x, "Value.data"))


# reads go straight to the slot (the getter is the slot's own, in C); writes are checked
_CHECKED_DATA = property(_DATA.__get__, _set_data, doc="The number, a float64.")
Value.data = _CHECKED_DATA


# ---------------------------------------------------------------------------------------
# Operands: a Value as it is, a plain number as a constant


def _operand(x: object, symbol: str, value: Value, reflected: bool = False) -> Value:
    """x as a graph node: a Value as it is, a plain number as a constant leaf."""
    if isinstance(x, Value):
        return x
    if is_number(x):  # int, float, bool, Fraction and numpy scalars
        try:
            return _constant(float(x))
        except OverflowError:
            raise too_large(x, operation(x, symbol, reflected)) from None
    raise TypeError(f"{operation(x, symbol, reflected)}: expected a number or Value, got {x!r}")


def _compared(x: object, symbol: str) -> float:
    if isinstance(x, Value):
        if _watchers:
            _decided(x, f"comparing ({symbol})", depth=3)
        return x._data
    if is_number(x):
        return x
    raise TypeError(f"Value {symbol} {type(x).__name__}: expected a number or Value, got {x!r}")


# ---------------------------------------------------------------------------------------
# Making a node: the one interception point


_new = object.__new__


def _record(data: float, a: Value | None, b: Value | None, op: Op) -> Value:
    """A new node holding data, made by op from inputs a and b (None when absent)."""
    node = _new(Value)
    node._data = data
    node.grad = 0.0
    node.label = ""
    node._op = op
    node._a = a
    node._b = b
    return node


_node = _record  # what every op calls to make its node; modes swap in their own recorder


def _use_recorder(recorder) -> None:
    """Make every op record its node with recorder(data, a, b, op) (micrograd.modes)."""
    global _node
    _node = recorder


def _constant(data: float) -> Value:
    return _record(data, None, None, CONST)


def _apply(op: Op, a: Value, b: Value | None = None) -> Value:
    """Run op's forward on the inputs' numbers and record the result."""
    if b is None:
        return _node(op.forward(FLOAT, a._data), a, None, op)
    return _node(op.forward(FLOAT, a._data, b._data), a, b, op)


def apply_op(op: Op, *inputs: Value | float) -> Value:
    """op applied to inputs (Values or plain numbers, which become constants)."""
    if not isinstance(op, Op) or op.arity == 0:
        raise TypeError(f"apply_op: expected an op of micrograd.ops, got {op!r}")
    if len(inputs) != op.arity:
        raise TypeError(f"{op.name}(): takes {op.arity} input(s), got {len(inputs)}")
    values = [_lift(x, op) for x in inputs]
    return _apply(op, *values)


def _lift(x: object, op: Op) -> Value:
    if isinstance(x, Value):
        return x
    if is_number(x):
        return _constant(to_float(x, f"{op.name}()"))
    raise TypeError(f"{op.name}(): expected a number or Value, got {x!r}")


# ---------------------------------------------------------------------------------------
# Watching decisions: a Python choice made on a Value's number


_watchers: list = []  # decision hooks; empty unless a mode (tracing) watches


ENGINE_FOLDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "")
# nn, installed as micrograd/nn, is the engine's user: its decisions are reported as yours
_NN_FOLDER = os.path.join(ENGINE_FOLDER, "nn", "")


def in_engine(filename: str) -> bool:
    """Is this code file the engine's own (micrograd's, not micrograd.nn's)?"""
    return filename.startswith(ENGINE_FOLDER) and not filename.startswith(_NN_FOLDER)


def _decided(value: Value, action: str, depth: int = 2) -> None:
    """Tell every watcher that the code calling a Value method took a decision on value, and
    whether that code is the engine's own (backward's walk, gradcheck's float(), a drawing's
    read), which only a watcher that asks for them hears (the tracer: an engine function
    called inside a traced function reads one sample's number too)."""
    frame = sys._getframe(depth)  # _decided <- the Value method (or .data) <- deciding code
    own = in_engine(frame.f_code.co_filename)
    for watcher in list(_watchers):
        watcher(value, action, frame, own)  # the site from frame, only for a hook that hears


_LIBRARIES = tuple(
    {os.path.join(sysconfig.get_paths()[key], "") for key in ("stdlib", "purelib", "platlib")}
)


def _passed_through(frame) -> bool:
    """Code a site looks past to the line that called it: the libraries', micrograd's own
    (micrograd.nn's too, wherever its folder is: accuracy() called in your function decides
    on your line)."""
    module = frame.f_globals.get("__name__", "")
    return (
        frame.f_code.co_filename.startswith(_LIBRARIES)
        or module == "micrograd"
        or module.startswith("micrograd.")
    )


def _site(frame) -> str:
    """'file:line' of the deciding code; for a library's or micrograd's code (copy.copy,
    np.clip, nn.accuracy), the line of the nearest caller outside them, then theirs:
    'file:line (in ...)'."""
    here = f"{frame.f_code.co_filename}:{frame.f_lineno}"
    caller = frame
    while caller is not None and _passed_through(caller):
        caller = caller.f_back
    if caller is None or caller is frame:
        return here
    return f"{caller.f_code.co_filename}:{caller.f_lineno} (in {here})"


def _read_reported(value: Value) -> float:
    if _watchers:
        _decided(value, "reading .data of")
    return _DATA.__get__(value, Value)


_REPORTED_DATA = property(_read_reported, _set_data, doc="The number (reads are reported).")
_GRAD = Value.__dict__["grad"]


def _read_grad_reported(value: Value) -> float:
    if _watchers:
        _decided(value, "reading .grad of")
    return _GRAD.__get__(value, Value)


_REPORTED_GRAD = property(
    _read_grad_reported, _GRAD.__set__, doc="The gradient so far (reads are reported)."
)


def _watch_decisions(watchers: list) -> None:
    """Report decisions to these watchers from now on (none: stop watching): reads of .data
    and .grad too, through properties that stand in for the slots meanwhile."""
    _watchers[:] = watchers
    Value.data = _REPORTED_DATA if watchers else _CHECKED_DATA
    Value.grad = _REPORTED_GRAD if watchers else _GRAD


from . import backward as backprop  # noqa: E402  (these need Value, defined above)
from . import lecture  # noqa: E402

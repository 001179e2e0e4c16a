"""Tracing: run a per-sample function once on stand-in Values and keep the graph it builds.

While tracing, every node whose number can change between calls (it depends on an input,
which differs per sample, or on a parameter, which the optimizer moves) is switched to the
subclass ``_Traced``. The graph is recorded once and replayed for every sample, so Python
decisions on such a number (``if v > 0``, ``float(v)``, ``v.data``) would silently bake one
sample's branch into the program; ``_Traced`` refuses them and names the line instead. An op
under ``no_grad`` would bake its result in the same way, and is refused too, as is a decision
taken on a parameter before any op has used it (noted, then refused when the trace ends).
The switch is a ``__class__`` assignment (same layout, no engine change), undone after.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from .engine import _PACKAGE_DIR, Value, _state, add_node_hook, enable_grad, remove_node_hook
from .engine import _user_frame as _user_site
from .ops import CONST, LEAF

_DATA = Value.data  # the slot descriptor that _Traced.data wraps


class TracingError(RuntimeError):
    """Python control flow on a traced number, which a compiled program cannot replay."""


def _refuse(action: str, site: str | None = None) -> TracingError:
    return TracingError(
        f"micrograd.compile: {site or _user_site()}: {action} a Value that depends on the "
        "inputs or parameters, while tracing. The traced program is replayed for every sample and "
        "every step, so a Python decision on this one number would be baked in for all of "
        "them. Express the choice with ops (relu, abs, leaky_relu, sigmoid, a * mask), pass "
        "the plain number it depends on as a static argument (compile(fn, static=...)), or "
        "move it outside the compiled function."
    )


def _read_by_user_code() -> bool:
    """Whether the .data read being served was written outside micrograd (the engine's own
    reads, in op forwards and rules, are never decisions)."""
    return not sys._getframe(2).f_code.co_filename.startswith(_PACKAGE_DIR)


def _read_data(node: Value) -> float:
    if _read_by_user_code():
        raise _refuse("reading .data of")
    return _DATA.__get__(node, Value)


class _Traced(Value):
    """A Value whose number varies between calls of the compiled function."""

    __slots__ = ()

    data = property(_read_data, _DATA.__set__)

    def __lt__(self, other: object) -> bool:
        raise _refuse("comparing (<)")

    def __le__(self, other: object) -> bool:
        raise _refuse("comparing (<=)")

    def __gt__(self, other: object) -> bool:
        raise _refuse("comparing (>)")

    def __ge__(self, other: object) -> bool:
        raise _refuse("comparing (>=)")

    def __bool__(self) -> bool:
        raise _refuse("testing the truth (bool) of")

    def __float__(self) -> float:
        raise _refuse("converting with float()")

    def detach(self) -> Value:
        raise _refuse("detaching")


# A Value is switched to _Traced when an op first uses it, so a parameter compared before
# that (``if w > 0`` on the first line) still answers with this step's number. While
# tracing, Value's own deciding methods and its .data are wrapped to note each such
# decision, and one taken on a Value that turned out to vary is refused when the trace ends.
_DECISIONS = {  # and reading .data, below
    "__lt__": "comparing (<)",
    "__le__": "comparing (<=)",
    "__gt__": "comparing (>)",
    "__ge__": "comparing (>=)",
    "__float__": "converting with float()",
    "detach": "detaching",
}


def _noting(method: Callable, action: str, decisions: list) -> Callable:
    def noted(self, *args):
        decisions.append((self, action, _user_site()))
        return method(self, *args)

    return noted


def _noting_data_reads(decisions: list) -> property:
    """Value.data while tracing: reads from user code are noted (the engine's own are not)."""

    def read(node: Value) -> float:
        if _read_by_user_code():
            decisions.append((node, "reading .data of", _user_site()))
        return _DATA.__get__(node, Value)

    return property(read, _DATA.__set__)


class _Tracer:
    """The node hook: marks every recorded node that varies, remembering what to undo."""

    def __init__(self) -> None:
        self.switched: list[tuple[Value, type]] = []
        self.recorded: list[Value] = []  # every node made while tracing, in creation order

    def mark(self, node: Value) -> None:
        cls = node.__class__
        if cls is _Traced or node._op is CONST:
            return
        try:
            node.__class__ = _Traced
        except TypeError:  # a user subclass with another layout: left as it is
            return
        self.switched.append((node, cls))

    def __call__(self, node: Value) -> None:
        self.recorded.append(node)
        varies = False
        for parent in node._prev:
            if parent._op is not CONST:
                self.mark(parent)  # a parameter, or a node computed before tracing
                varies = True
        if varies:
            self.mark(node)

    def refuse_detached(self, a: Value | None, b: Value | None) -> None:
        """Called for each op run under no_grad while tracing. Its result would be a leaf
        holding this sample's number (or this step's parameter), replayed unchanged for
        every other one: refuse it when an input varies, or may (a leaf: a parameter)."""
        for operand in (a, b):
            if isinstance(operand, _Traced) or (operand is not None and operand._op is LEAF):
                raise _refuse("using no_grad on")

    def undo(self) -> None:
        for node, cls in reversed(self.switched):
            node.__class__ = cls
        self.switched.clear()


def trace(fn: Callable, arguments: list, inputs: list[Value]) -> tuple[object, list[Value]]:
    """fn(*arguments), with data-dependent control flow refused, and the nodes it made in
    creation order (a topological order of its graph). inputs: the leaves in arguments."""
    tracer = _Tracer()
    for leaf in inputs:
        tracer.mark(leaf)
    decisions: list[tuple[Value, str, str]] = []
    methods = {name: Value.__dict__[name] for name in _DECISIONS}
    for name, action in _DECISIONS.items():
        setattr(Value, name, _noting(methods[name], action, decisions))
    Value.data = _noting_data_reads(decisions)
    add_node_hook(tracer)
    _state.detach_hooks.append(tracer.refuse_detached)
    try:
        with enable_grad():  # a trace started under no_grad must still record the graph
            result = fn(*arguments)
        for value, action, site in decisions:
            if type(value) is _Traced:  # decided on before an op marked it as varying
                raise _refuse(action, site)
        return result, tracer.recorded
    finally:
        _state.detach_hooks.remove(tracer.refuse_detached)
        remove_node_hook(tracer)
        for name, method in methods.items():
            setattr(Value, name, method)
        Value.data = _DATA
        tracer.undo()

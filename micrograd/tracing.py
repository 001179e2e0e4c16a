"""Tracing: run a per-sample function once on stand-in Values and keep the graph it builds.

The traced graph is recorded once and replayed for every sample and every step, so a Python
decision taken on a number while tracing (``if v > 0``, ``float(v)``, ``v.data``,
``v.detach()``) would be taken once, for one sample's number or this step's parameter, and
silently baked into the program for all the others. While tracing, the engine's decision
hook therefore refuses any decision on a Value that is not a constant, naming the line; its
node hook refuses an op under no_grad (whose result would be such a baked number) and keeps
every node in the order it was made.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from . import engine
from .engine import Value
from .modes import (
    add_decision_hook,
    add_node_hook,
    enable_grad,
    remove_decision_hook,
    remove_node_hook,
    user_site,
)
from .ops import CONST

__all__ = ["TracingError", "is_tracing", "refuse_while_tracing", "trace"]


class TracingError(RuntimeError):
    """Python control flow on a traced number, which a compiled program cannot replay."""


def _refuse(action: str, site: str) -> TracingError:
    lecture = (
        " An op made the lecture's way, Value(data, children, op) with a _backward closure, "
        "reads .data like this: it has no rule micrograd.compile can replay, so write it as "
        "an Op row (micrograd.ops) instead."
        if action == "reading .data of"
        else ""
    )
    return TracingError(
        f"micrograd.compile: {site}: {action} a Value that depends on the inputs or "
        "parameters, while tracing. The traced program is replayed for every sample and "
        "every step, so a Python decision on this one number would be baked in for all of "
        "them. Express the choice with ops (relu, abs, leaky_relu, maximum, a * mask), pass "
        "the plain number it depends on as a static argument (compile(fn, static=...)), or "
        f"move it outside the compiled function.{lecture}"
    )


class _Active(threading.local):
    """The tracers running now in this thread (a traced function may compile another)."""

    def __init__(self) -> None:
        self.tracers: list[_Tracer] = []


_active = _Active()


def is_tracing() -> bool:
    """Whether micrograd.compile is tracing now, in this thread: the Values a function sees
    then stand for every sample and step, so their numbers must not steer Python
    (validations that read a number, such as a probability's range, are to be skipped)."""
    return bool(_active.tracers)


def refuse_while_tracing(action: str, instead: str) -> None:
    """A TracingError naming the user's line if micrograd.compile is tracing in this thread:
    action reads numbers (a gradient's walk, a compiled run), which the trace would keep
    as the first sample's, for every sample and step."""
    if _active.tracers:
        raise TracingError(
            f"micrograd.compile: {user_site()}: {action} while tracing. It computes with "
            "this sample's numbers, and the traced program would replay them as constants "
            f"for every sample and step. {instead}"
        )


class _AllBut:
    """Every action but these: `in` it is True for any other."""

    def __init__(self, *actions: str) -> None:
        self.actions = actions

    def __contains__(self, action: object) -> bool:
        return action not in self.actions


class _Tracer:
    """The two hooks: every node in creation order; every decision refused."""

    def __init__(self) -> None:
        self.recorded: list[Value] = []
        self.made: dict[Value, str] = {}  # leaves made by the traced function: where
        self.thread = threading.get_ident()
        self.active = True  # False once its trace is over: a hook left behind goes

    def on_leaf(self, leaf: Value) -> None:
        if not self.active:  # as on_node
            with contextlib.suppress(ValueError):
                engine._leaf_hooks.remove(self.on_leaf)
        elif threading.get_ident() == self.thread:
            self.made[leaf] = user_site()

    def on_node(self, node: Value, inputs: tuple) -> None:
        if not self.active:  # left behind by an interrupted trace: gone from now on
            with contextlib.suppress(ValueError):
                remove_node_hook(self.on_node)
            return
        if node._a is None and any(x._op is not CONST for x in inputs):  # made under no_grad
            raise _refuse("using no_grad on", user_site())
        self.recorded.append(node)

    def on_decision(self, value: Value, action: str, site: str) -> None:
        if not self.active:  # as on_node
            with contextlib.suppress(ValueError):
                remove_decision_hook(self.on_decision)
        elif value._op is not CONST:
            raise _refuse(action, site)

    # the engine's own reads too: a drawing's or a rule's, called inside the traced function
    # on a traced Value, read one sample's number as much as the function's own code would;
    # not its reads of .grad: a sort's marks (topological_order of a traced graph is fine),
    # and the walks that read gradients refuse themselves (refuse_while_tracing)
    on_decision.engine_decisions = _AllBut("reading .grad of")


def trace(fn: Callable, arguments: list) -> tuple[object, list[Value], dict[Value, str]]:
    """fn(*arguments), with data-dependent control flow refused; the nodes it made in
    creation order (a topological order of its graph); the leaves it made, with where."""
    tracer = _Tracer()
    try:
        add_node_hook(tracer.on_node)
        add_decision_hook(tracer.on_decision)
        engine._leaf_hooks.append(tracer.on_leaf)
        _active.tracers.append(tracer)
        with enable_grad():  # a trace started under no_grad must still record the graph
            result = fn(*arguments)
        return result, tracer.recorded, tracer.made
    finally:
        # first what no Ctrl-C can stop halfway (an attribute, a list's own methods): were
        # a hook's removal below interrupted, the hook would stay only until its next call,
        # doing nothing then but take itself away (every decision was refused after one,
        # while is_tracing() said False)
        tracer.active = False
        if tracer in _active.tracers:
            _active.tracers.remove(tracer)
        for remove, hook in (
            (engine._leaf_hooks.remove, tracer.on_leaf),
            (remove_decision_hook, tracer.on_decision),
            (remove_node_hook, tracer.on_node),
        ):
            with contextlib.suppress(ValueError):  # never added: interrupted before
                remove(hook)

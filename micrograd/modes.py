"""Modes: no_grad, enable_grad, anomaly detection, and the hooks that micrograd.compile's
tracer uses, all through the engine's two interception points (see micrograd.engine).

The common path pays nothing for them: while no mode is on, ops record their nodes with the
engine's bare ``_record``; while one is, with ``_record_in_mode``, which runs the hooks.
"""

from __future__ import annotations

import math
import os
import sys
import weakref
from collections.abc import Callable, Sequence
from contextlib import ContextDecorator
from types import SimpleNamespace

from . import engine
from .engine import Value, _record
from .ops import LEAF

__all__ = [
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "add_node_hook",
    "remove_node_hook",
    "add_decision_hook",
    "remove_decision_hook",
    "detect_anomaly",
]

_state = SimpleNamespace(grad_disabled=0, node_hooks=[], decision_hooks=[], anomaly=[])


def _record_in_mode(data: float, a: Value | None, b: Value | None, op) -> Value:
    if _state.grad_disabled:
        node = _record(data, None, None, LEAF)  # no graph: a new leaf
    else:
        node = _record(data, a, b, op)
    inputs = (a,) if b is None else (a, b)
    for hook in list(_state.node_hooks):
        hook(node, inputs)
    return node


def _refresh() -> None:
    plain = not (_state.grad_disabled or _state.node_hooks)
    engine._use_recorder(engine._record if plain else _record_in_mode)


def add_node_hook(hook: Callable[[Value, tuple], None]) -> None:
    """Call ``hook(node, inputs)`` for every op from now on, with the node it made and the
    Values it was applied to (under no_grad the node is a new leaf, inputs are still given)."""
    _state.node_hooks.append(hook)
    _refresh()


def remove_node_hook(hook: Callable) -> None:
    """Stop calling a hook added with add_node_hook."""
    _state.node_hooks.remove(hook)
    _refresh()


def add_decision_hook(hook: Callable[[Value, str, str], None]) -> None:
    """Call ``hook(value, action, site)`` whenever code outside the engine takes a Python
    decision on a Value's number: compares it, tests its truth, converts it with float(),
    detaches it or reads ``.data`` (``action`` says which, ``site`` is 'file:line'). The
    hook may raise to refuse the decision. micrograd.compile's tracer refuses them all."""
    _state.decision_hooks.append(hook)
    engine._watch_decisions(_state.decision_hooks)


def remove_decision_hook(hook: Callable) -> None:
    """Stop calling a hook added with add_decision_hook."""
    _state.decision_hooks.remove(hook)
    engine._watch_decisions(_state.decision_hooks)


class no_grad(ContextDecorator):
    """Inside, operations record no graph: every result is a new leaf.
    Use as ``with no_grad():`` or as a decorator."""

    def __enter__(self) -> no_grad:
        _state.grad_disabled += 1
        _refresh()
        return self

    def __exit__(self, *exc_info) -> None:
        _state.grad_disabled -= 1
        _refresh()


class enable_grad(ContextDecorator):
    """Inside, operations record the graph again, even within ``no_grad``."""

    def __enter__(self) -> enable_grad:
        self._saved = _state.grad_disabled
        _state.grad_disabled = 0
        _refresh()
        return self

    def __exit__(self, *exc_info) -> None:
        _state.grad_disabled = self._saved
        _refresh()


def is_grad_enabled() -> bool:
    """True unless inside ``no_grad``."""
    return not _state.grad_disabled


# ---------------------------------------------------------------------------------------
# Anomaly mode

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_site() -> str:
    """'file:line' of the innermost frame outside the micrograd engine's folder."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _not_finite(x: float) -> bool:
    return x != x or x == math.inf or x == -math.inf


def _number(x) -> float:
    return x._data if isinstance(x, Value) else x


class detect_anomaly(ContextDecorator):
    """Inside, the first op whose forward or backward gives nan or inf raises
    FloatingPointError naming the op, its inputs and the line of user code that made it."""

    def __init__(self) -> None:
        self.sites: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _check(self, node: Value, inputs: tuple) -> None:
        site = user_site()
        self.sites[node] = site
        if _not_finite(node._data) and not any(_not_finite(x._data) for x in inputs):
            raise FloatingPointError(
                f"{_describe(node._op, inputs)} gave {node._data} in its forward pass, "
                f"created at {site}"
            )

    def __enter__(self) -> detect_anomaly:
        _state.anomaly.append(self)
        add_node_hook(self._check)
        return self

    def __exit__(self, *exc_info) -> None:
        remove_node_hook(self._check)
        _state.anomaly.remove(self)


def anomaly_detected() -> bool:
    """Whether backward should check every node's gradients (inside detect_anomaly)."""
    return bool(_state.anomaly)


def _describe(op, inputs: Sequence[Value]) -> str:
    shown = ", ".join(repr(x._data) for x in inputs)
    return f"op {op.name!r} on inputs ({shown})"


def check_backward(node: Value, node_grad, local_grads: Sequence) -> None:
    """Raise if this node's backward is the first to produce nan or inf."""
    if any(_not_finite(_number(g)) for g in local_grads) and not _not_finite(_number(node_grad)):
        site = "<unknown: created outside detect_anomaly>"
        for mode in _state.anomaly:
            site = mode.sites.get(node, site)
        shown = ", ".join(repr(_number(g)) for g in local_grads)
        raise FloatingPointError(
            f"{_describe(node._op, node._prev)} gave gradients ({shown}) in its backward pass, "
            f"created at {site}"
        )

"""Modes: no_grad, enable_grad, anomaly detection, and the hooks that micrograd.compile's
tracer uses, all through the engine's two interception points (see micrograd.engine).

The common path pays nothing for them: while no mode is on, ops record their nodes with the
engine's bare ``_record``; while one is, with ``_record_in_mode``, which runs the hooks.

Each thread has its own modes, as in PyTorch: a thread inside ``no_grad`` or tracing leaves
another thread's graph and numbers alone. The engine's interception points are shared, so
while any thread has a mode on, every thread's ops go through ``_record_in_mode`` (and its
decisions through ``_dispatch``), which find no hooks of their own there.
"""

from __future__ import annotations

import functools
import inspect
import math
import sys
import threading
import weakref
from collections.abc import Callable, Generator, Sequence
from contextlib import ContextDecorator

from . import engine
from .engine import Value, _constant, _record
from .ops import CONST, LEAF

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


class _ThreadModes(threading.local):
    """One thread's modes: every thread starts with none (grad enabled, no hooks)."""

    def __init__(self) -> None:
        self.grad_disabled = 0
        self.node_hooks: list = []
        self.decision_hooks: list = []
        self.anomaly: list = []
        self.in_rules = 0  # create_graph's rules running: the nodes they make are gradients
        # per enable_grad instance (gone with it), one entry per entry into it, innermost last
        self.grad_disabled_before: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


_state = _ThreadModes()
_recording: set[int] = set()  # threads with a mode that records: no_grad, node hooks
_deciding: set[int] = set()  # threads with decision hooks


def _record_in_mode(data: float, a: Value | None, b: Value | None, op) -> Value:
    state = _state
    if state.grad_disabled:
        node = _record(data, None, None, LEAF)  # no graph: a new leaf
    elif state.in_rules and a is not None and a._op is CONST and (b is None or b._op is CONST):
        # a gradient's constant part (pow's exponent b - 1): a constant, as torch gives it no
        # gradient, so that detect_anomaly does not judge the nan nothing reads
        node = _constant(data)
    else:
        node = _record(data, a, b, op)
    if state.node_hooks:
        inputs = (a,) if b is None else (a, b)
        for hook in list(state.node_hooks):
            hook(node, inputs)
    return node


def _dispatch(value: Value, action: str, frame, own: bool) -> None:
    """The engine's one decision watcher while any thread watches: this thread's hooks; the
    engine's own decisions (own) only to a hook whose engine_decisions holds the action.
    The site ('file:line') is worked out once, and only for a hook that hears it (an
    engine's walk reads every node's .grad: five times the walk's time, to be dropped)."""
    site = None
    for hook in list(_state.decision_hooks):
        if own and action not in getattr(hook, "engine_decisions", ()):
            continue
        if site is None:
            site = engine._site(frame)
        hook(value, action, site)


def _settle(threads: set[int], on: bool, use: Callable[[bool], None]) -> None:
    """Mark this thread in threads (or not), then use(whether any thread is marked). No
    lock (a Ctrl-C landing inside one would leave it held): after each use the set is read
    again, so that a thread marked meanwhile, whose own use this one may have overwritten,
    is seen, and the last use always fits the set."""
    (threads.add if on else threads.discard)(threading.get_ident())
    while True:
        busy = bool(threads)
        use(busy)
        if busy == bool(threads):
            return


def _surely(refresh: Callable[[], None]) -> None:
    """refresh(), made again if something interrupts it (a Ctrl-C lands anywhere), then the
    interrupt raised: the engine's recorder and watchers always fit the modes."""
    try:
        refresh()
    except BaseException:
        refresh()
        raise


def _refresh() -> None:
    _settle(
        _recording,
        bool(_state.grad_disabled or _state.node_hooks),
        lambda busy: engine._use_recorder(_record_in_mode if busy else engine._record),
    )


def _refresh_decisions() -> None:
    _settle(
        _deciding,
        bool(_state.decision_hooks),
        lambda busy: engine._watch_decisions([_dispatch] if busy else []),
    )


def add_node_hook(hook: Callable[[Value, tuple], None]) -> None:
    """Call ``hook(node, inputs)`` for every op this thread makes from now on, with the node
    it made and the Values it was applied to (under no_grad the node is a new leaf, inputs
    are still given)."""
    _add(_state.node_hooks, hook, _refresh)


def remove_node_hook(hook: Callable) -> None:
    """Stop calling a hook added with add_node_hook."""
    _forget(_state.node_hooks, hook, "remove_node_hook", "add_node_hook")
    _surely(_refresh)


def _add(hooks: list, hook: Callable, refresh: Callable[[], None]) -> None:
    """hook appended to hooks and the engine refreshed, all or nothing: a Ctrl-C mid-way
    takes it out again."""
    count = len(hooks)
    try:
        hooks.append(hook)
        refresh()
    except BaseException:
        del hooks[count:]
        _surely(refresh)
        raise


def _forget(hooks: list, hook: Callable, name: str, adder: str) -> None:
    if hook not in hooks:
        raise ValueError(f"{name}: {hook!r} was not added with {adder} in this thread")
    hooks.remove(hook)


def add_decision_hook(hook: Callable[[Value, str, str], None]) -> None:
    """Call ``hook(value, action, site)`` whenever code outside the engine, in this thread,
    takes a Python decision on a Value's number: compares it, tests its truth, converts it
    with float(), detaches it or reads ``.data`` or ``.grad`` (``action`` says which,
    ``site`` is 'file:line', of your line that called micrograd's or a library's code that
    decided). The engine's own reads (backward's, gradcheck's, a drawing's) are reported
    only to a hook whose ``engine_decisions`` attribute holds the action. The hook may raise
    to refuse the decision. micrograd.compile's tracer refuses them all, and the engine's
    but its reads of .grad (a walk's marks, not numbers: backward() itself is refused)."""
    _add(_state.decision_hooks, hook, _refresh_decisions)


def remove_decision_hook(hook: Callable) -> None:
    """Stop calling a hook added with add_decision_hook."""
    _forget(_state.decision_hooks, hook, "remove_decision_hook", "add_decision_hook")
    _surely(_refresh_decisions)


# Entering and leaving a mode is all or nothing, even if a Ctrl-C lands mid-way: a with
# block whose __enter__ raises is never left, so a half-entered mode would stay for good (a
# fit interrupted inside a no_grad, then run again, trained nothing).


class _Mode(ContextDecorator):
    """A mode as a context manager and as a decorator. A generator function decorated runs
    each of its steps in the mode, and leaves its caller in the caller's own between them,
    as torch's decorators do (a plain ContextDecorator is on only while the generator is
    made, before any of its code runs)."""

    def __call__(self, function: Callable) -> Callable:
        if not inspect.isgeneratorfunction(function):
            return super().__call__(function)

        @functools.wraps(function)
        def stepped(*args, **kwargs):
            with self:
                generator = function(*args, **kwargs)
            return (yield from _each_step_in(self, generator))

        return stepped


def _each_step_in(mode: _Mode, generator: Generator):
    """generator's steps (sent values, thrown errors, closing it), each inside mode."""
    try:
        with mode:
            value = generator.send(None)
    except StopIteration as stop:
        return stop.value
    while True:
        try:
            sent = yield value
        except GeneratorExit:
            with mode:
                generator.close()
            raise
        except BaseException as error:
            try:
                with mode:
                    value = generator.throw(error)
            except StopIteration as stop:
                return stop.value
        else:
            try:
                with mode:
                    value = generator.send(sent)
            except StopIteration as stop:
                return stop.value


class no_grad(_Mode):
    """Inside, operations (of this thread) record no graph: every result is a new leaf.
    Use as ``with no_grad():`` or as a decorator."""

    def __enter__(self) -> no_grad:
        before = _state.grad_disabled
        try:
            _state.grad_disabled = before + 1
            _refresh()
            return self  # inside: a Ctrl-C even here undoes it
        except BaseException:
            _state.grad_disabled = before
            _surely(_refresh)
            raise

    def __exit__(self, *exc_info) -> None:
        # never below 0: an enable_grad inside, whose exit an interrupt stopped, left it 0
        _state.grad_disabled = max(0, _state.grad_disabled - 1)
        _surely(_refresh)


class enable_grad(_Mode):
    """Inside, operations record the graph again, even within ``no_grad``."""

    # What it restores is kept per thread and per instance, innermost last, not on the
    # instance alone: a decorator is one instance for every call (a recursive call overwrote
    # its caller's, and after the no_grad block nothing was recorded), and one instance may
    # be entered twice, or in two threads at once
    def __enter__(self) -> enable_grad:
        saved = _state.grad_disabled_before.setdefault(self, [])
        depth, before = len(saved), _state.grad_disabled
        try:
            saved.append(before)
            _state.grad_disabled = 0
            _refresh()
            return self
        except BaseException:
            del saved[depth:]
            _state.grad_disabled = before
            _surely(_refresh)
            raise

    def __exit__(self, *exc_info) -> None:
        saved = _state.grad_disabled_before.get(self)
        if not saved:
            raise RuntimeError("enable_grad: left (__exit__) without being entered in this thread")
        _state.grad_disabled = saved.pop()
        _surely(_refresh)


def is_grad_enabled() -> bool:
    """True unless this thread is inside ``no_grad``."""
    return not _state.grad_disabled


# ---------------------------------------------------------------------------------------
# Anomaly mode


def user_site() -> str:
    """'file:line' of the innermost frame outside the micrograd engine's own code."""
    frame = sys._getframe(1)
    while frame is not None and engine.in_engine(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _not_finite(x: float) -> bool:
    return x != x or x == math.inf or x == -math.inf


def _number(x) -> float:
    return x._data if isinstance(x, Value) else x


class detect_anomaly(_Mode):
    """Inside, the first op whose forward or backward gives nan or inf raises
    FloatingPointError naming the op, its inputs and the line of user code that made it."""

    def __init__(self) -> None:
        self.sites: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _check(self, node: Value, inputs: tuple) -> None:
        if self not in _state.anomaly:  # left, but an interrupt kept its hook: it goes
            if self._check in _state.node_hooks:
                remove_node_hook(self._check)
            return
        site = user_site()
        self.sites[node] = site
        if _state.in_rules:  # a rule's own steps (x ** 2's unused log(x) at x < 0, say):
            return  # check_backward judges what the rule hands on
        if _not_finite(node._data) and not any(_not_finite(x._data) for x in inputs):
            raise FloatingPointError(
                f"{_describe(node._op, inputs)} gave {node._data} in its forward pass, "
                f"created at {site}"
            )

    def __enter__(self) -> detect_anomaly:
        try:
            _state.anomaly.append(self)
            add_node_hook(self._check)  # all or nothing itself
            return self
        except BaseException:
            if self in _state.anomaly:
                _state.anomaly.remove(self)
            if self._check in _state.node_hooks:
                remove_node_hook(self._check)
            raise

    def __exit__(self, *exc_info) -> None:
        _state.anomaly.remove(self)  # first: its check, were it left behind, does nothing
        remove_node_hook(self._check)


class rules_running:
    """Inside, create_graph's rules are making nodes, under detect_anomaly: it leaves their
    forward to check_backward, which judges the gradients the rule hands on, and an op on
    constants makes a constant."""

    def __enter__(self) -> None:
        _state.in_rules += 1

    def __exit__(self, *exc_info) -> None:
        _state.in_rules -= 1


def anomaly_detected() -> bool:
    """Whether backward should check every node's gradients (inside detect_anomaly)."""
    return bool(_state.anomaly)


def check_made(node: Value, inputs: tuple) -> None:
    """What detect_anomaly does for a node the engine's recorder makes, for one made
    another way (the lecture's ``Value(data, (a, b), op)``): note the line that made it,
    and raise if its forward gave nan or inf."""
    for mode in list(_state.anomaly):
        mode._check(node, inputs)


def _describe(op, inputs: Sequence[Value]) -> str:
    shown = ", ".join(repr(x._data) for x in inputs)
    return f"op {op.name!r} on inputs ({shown})"


def check_backward(node: Value, node_grad, local_grads: Sequence, before=None) -> None:
    """Raise if this node's backward is the first to produce nan or inf, for an input that
    is not a constant: x ** 2 at x = -2 hands the constant 2 a nan (log(-2)) that nothing
    reads, as PyTorch, which gives a plain number no gradient at all, does not check. For a
    lecture node's closure, local_grads are the inputs' .grad after it and before their
    .grad before it: only an input it turned from finite to nan or inf counts."""
    inputs = node._prev
    before = before if before is not None else [0.0] * len(inputs)
    checked = [
        g
        for g, x, was in zip(local_grads, inputs, before)
        if x._op is not CONST and not _not_finite(_number(was))
    ]
    if any(_not_finite(_number(g)) for g in checked) and not _not_finite(_number(node_grad)):
        site = "<unknown: created outside detect_anomaly>"
        for mode in _state.anomaly:
            site = mode.sites.get(node, site)
        shown = ", ".join(repr(_number(g)) for g in local_grads)
        raise FloatingPointError(
            f"{_describe(node._op, node._prev)} gave gradients ({shown}) in its backward pass, "
            f"created at {site}"
        )

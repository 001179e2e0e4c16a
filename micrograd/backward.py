"""Backpropagation: one topological sort, and the chain rule applied in one walk.

``backward()``, ``grad()``, ``create_graph`` and the step-through frames of the drawings all
run ``_walk``, which visits the nodes from the root back to the leaves and hands each input
``grad * d node / d input``, by the node's own rule from micrograd.ops (``local_gradients``,
which checks that the rule returns one gradient per input). The same walk serves floats and
Values (for gradients that are graphs themselves): the rules are written for both. It stops
at a ``stop_gradient`` node: no gradient passes one, so what lies behind it is not walked.

Gradients are gathered in ``.grad`` itself. The sort marks each node it visits by setting its
``.grad`` to this pass's mark, a float -0.0 of its own: that resets the node for the walk
(``-0.0 + x`` is exactly ``x``, so the first gradient to arrive is kept as it is, sign of zero
included, as PyTorch keeps it), and no second pass has to reset it. An interrupted sort
leaves only -0.0s behind, which the next pass, with a mark of its own, visits again.
``grad()`` and the frames must leave ``.grad`` as it was: they save it and put it back.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable
from types import SimpleNamespace

from . import lecture, modes, ops
from .engine import Value, _constant
from .floatmath import FLOAT, fsign, fwhere
from .tracing import refuse_while_tracing

# The walks keep their marks and sums in the nodes' .grad, leaves' too: two threads walking
# graphs that share nodes (a training loop's backward and a monitor's grad()) saw each
# other's marks, and grad() put back a .grad the other had just set. One walk at a time in a
# process; a thread may walk again within its own walk (a rule that takes a gradient).
_WALKING = threading.RLock()


def _one_walk_at_a_time(walk: Callable) -> Callable:
    @functools.wraps(walk)
    def walking(*args, **kwargs):
        with _WALKING:
            return walk(*args, **kwargs)

    return walking


__all__ = [
    "VALUE",
    "backward",
    "grad",
    "local_gradients",
    "topological_order",
    "walk_aside",
    "walked",
]


# ---------------------------------------------------------------------------------------
# The rules' elementary functions on Values, for create_graph=True.


def _value_sign(x: Value) -> float:
    return fsign(x._data)  # piecewise constant: its derivative is 0, so no node


def _value_where(condition, if_true, if_false) -> Value:
    chosen = fwhere(condition, if_true, if_false)
    return chosen if isinstance(chosen, Value) else _constant(float(chosen))


VALUE = SimpleNamespace(
    div=lambda a, b: a / b,
    pow=lambda a, b: a**b,
    exp=Value.exp,
    log=Value.log,
    log1p=Value.log1p,
    sqrt=Value.sqrt,
    sin=Value.sin,
    cos=Value.cos,
    tanh=Value.tanh,
    sigmoid=Value.sigmoid,  # a sigmoid node: its own derivative, out * (1 - out), stays finite
    sign=_value_sign,
    where=_value_where,  # a plain branch (the 0 of relu's rule) becomes a constant Value
    plain=lambda x: x._data if isinstance(x, Value) else x,
)
VALUE.__doc__ = "The rules' elementary functions on Values: rules run on them build graphs."


class _Mark(float):
    """-0.0 with an identity of its own: one per pass, so a pass knows the nodes it visited."""

    __slots__ = ()


_INPUTS_DONE = object()  # a stack entry: the node below it has all its inputs ordered


def _sort(
    root: Value,
    mark: _Mark,
    with_leaves: bool = False,
    saved: list | None = None,
    through_stops: bool = False,
):
    """Every node with inputs reachable from root (every node, with_leaves), each after its
    inputs, root last; each one's ``.grad`` set to mark, its old value appended to saved.
    Unless through_stops, what lies behind a stop_gradient node is not reached through it.

    Iterative, so graphs of any depth work; inputs are visited in order, so the order is the
    same on every run. A node is marked in its own ``.grad`` rather than in a set: backward
    reads the node anyway, while a set of a million nodes outgrows the CPU cache. It is
    marked ``pending`` while its inputs are ordered, mark once it is: meeting a pending node
    again means it is among its own inputs, a cycle (made by hand: no op makes one).
    """
    order: list[Value] = []
    stack: list = [root]
    push, pop, emit = stack.append, stack.pop, order.append
    pending = _Mark(mark)
    while stack:
        node = pop()
        if node is _INPUTS_DONE:
            node = pop()
            node.grad = mark
            emit(node)
        elif node.grad is not mark:
            if node.grad is pending:
                raise _cycle(node)
            if saved is not None:
                saved.append((node, node.grad))
            node.grad = pending
            push(node)
            push(_INPUTS_DONE)
            if node._op is ops.STOP_GRADIENT and not through_stops:  # no gradient passes it
                continue
            a, b = node._a, node._b
            if a is not None and a.grad is not mark and (with_leaves or a._a is not None):
                push(a)
            if b is not None and b.grad is not mark and (with_leaves or b._a is not None):
                push(b)
    return order


def _cycle(node: Value) -> ValueError:
    label = f" {node.label!r}" if node.label else ""
    return ValueError(
        f"the graph has a cycle: node{label} (op {node._op.name!r}, data {node._data!r}) is "
        "among its own inputs; ops never make one, so an input (_prev, _a, _b) was set by hand"
    )


class GradsPutBack:
    """``with GradsPutBack() as saved:`` gives a list for (node, its .grad) pairs (a sort
    fills it as it marks nodes); on leaving, every one is put back, however the block ends.
    The putting back finishes even if something interrupts it (a Ctrl-C), then raises
    that: no grad keeps a mark or a walk's number. It is __exit__'s own loop, not a call
    (a Ctrl-C may land as any function starts)."""

    def __enter__(self) -> list:
        self.saved: list = []
        return self.saved

    def __exit__(self, *exc_info) -> None:
        interrupted = None
        while True:
            try:
                saved = self.saved
                while saved:  # last first; a node is let go only once it is put back
                    node, old_grad = saved[-1]
                    node.grad = old_grad
                    saved.pop()
                break
            except KeyboardInterrupt as error:  # finish, then raise it
                interrupted = error
            except Exception as error:  # a grad that refuses to be set: skip it, and say so
                interrupted = interrupted or error
                self.saved.pop()
        if interrupted is not None:
            raise interrupted


@_one_walk_at_a_time
def topological_order(root: Value) -> list[Value]:
    """Every node reachable from root, each after all of its inputs (root last); no .grad
    is changed."""
    with GradsPutBack() as saved:
        return _sort(root, _Mark(-0.0), with_leaves=True, saved=saved, through_stops=True)


@_one_walk_at_a_time
def walked(root: Value) -> list[Value]:
    """The nodes backward() walks, each after its inputs (root last): those with inputs that
    root reaches other than through a stop_gradient. No .grad changes."""
    if root._a is None:
        return []  # a leaf: nothing to walk
    with GradsPutBack() as saved:
        return _sort(root, _Mark(-0.0), saved=saved)


def _wrong_count(node: Value, local_grads) -> TypeError:
    return TypeError(
        f"the derivative of op {node._op.name!r} returned {len(local_grads)} gradients "
        f"for {node._op.arity} inputs; a rule returns exactly one per input"
    )


def local_gradients(node: Value, node_grad, numbers=FLOAT, walk_mark=None) -> tuple | None:
    """What node hands each of its inputs: node_grad * d node / d input, by its op's rule
    (the chain rule at one node), on floats or on Values (numbers=VALUE). With walk_mark (a
    walk on floats that nobody observes), a node made the lecture's way runs its closure on
    its inputs' own grads instead, as karpathy's backward calls it, anomaly mode or not (a
    mode must not change the numbers: a closure that sets grads instead of adding them gives
    what it gives in his engine), and None is returned."""
    op, a, b = node._op, node._a, node._b
    if op.derivative is None:  # made the lecture's way: its rule is the node's own closure
        if walk_mark is not None:
            lecture.run_closure(node, walk_mark)
            return None
        local_grads = lecture.closure_gradients(node, node_grad, numbers)
    elif numbers is VALUE:
        inputs = (a,) if b is None else (a, b)
        if modes.anomaly_detected():
            with modes.rules_running():
                local_grads = op.derivative(VALUE, node_grad, node, *inputs)
        else:
            local_grads = op.derivative(VALUE, node_grad, node, *inputs)
    elif b is None:
        local_grads = op.derivative(numbers, node_grad, node._data, a._data)
    else:
        local_grads = op.derivative(numbers, node_grad, node._data, a._data, b._data)
    if len(local_grads) != op.arity:
        raise _wrong_count(node, local_grads)
    if numbers is VALUE:  # a rule may hand back a plain number (a 0): keep gradients Values
        local_grads = tuple(g if isinstance(g, Value) else _constant(float(g)) for g in local_grads)
    if modes.anomaly_detected():
        modes.check_backward(node, node_grad, local_grads)
    return local_grads


def _walk(order: list[Value], numbers, mark: _Mark, observe: Callable | None = None) -> None:
    """The chain rule along order (each node after its inputs), from its root back: every
    node's gradient, complete once all its consumers are done, is handed to its inputs."""
    plain = numbers is FLOAT and observe is None  # floats, nobody watching the steps
    fast = plain and not modes.anomaly_detected()
    walk_mark = mark if plain else None  # lecture closures run on the grads themselves
    ADD, MUL = ops.ADD, ops.MUL
    for node in reversed(order):
        op, g, a, b = node._op, node.grad, node._a, node._b
        if op is ops.STOP_GRADIENT:  # it hands nothing on: its input is not in order
            if observe is not None:
                observe(node, g, (0.0,), None)  # a frame still shows where the gradient stops
            continue
        if fast and op is ADD:  # + and * are most of every graph: their rows, inline
            a.grad += g
            b.grad += g
            continue
        if fast and op is MUL:
            a.grad += g * b._data
            b.grad += g * a._data
            continue
        local_grads = local_gradients(node, g, numbers, walk_mark)
        if local_grads is None:  # a lecture node's closure ran on the grads themselves
            continue
        if observe is not None and op.derivative is None and numbers is FLOAT:
            # watched, a lecture closure runs on the grads themselves too, after its shares
            # were measured apart: one that sets instead of adds shows as it behaves
            lecture.run_closure(node, mark)
            observe(node, g, local_grads, (a.grad,) if b is None else (a.grad, b.grad))
            continue
        if observe is not None:
            observe(node, g, local_grads, None)
        known = a.grad
        a.grad = local_grads[0] if known is mark else known + local_grads[0]
        if b is not None:
            known = b.grad
            b.grad = local_grads[1] if known is mark else known + local_grads[1]


_TRACED_GRADIENTS = (
    "Return the loss and take its gradient with the compiled function (value_and_grad, "
    "fit(compile=True)), or take gradients outside it."
)


@_one_walk_at_a_time
def backward(root: Value, create_graph: bool = False) -> None:
    """root.backward(): d root / d node into every reachable node's .grad (see Value)."""
    refuse_while_tracing("backward()", _TRACED_GRADIENTS)
    if create_graph:
        with modes.enable_grad():  # the gradients' own graph is recorded, even in no_grad
            _backward(root, VALUE, _constant(1.0))
    else:
        _backward(root, FLOAT, 1.0)


def _backward(root: Value, numbers, seed) -> None:
    if root._a is None:  # a leaf: d root / d root = 1, accumulated like any leaf's
        root.grad = root.grad + seed
        return
    mark = _Mark(-0.0)
    order = _sort(root, mark)
    root.grad = seed
    _walk(order, numbers, mark)


@_one_walk_at_a_time
def walk_aside(root: Value, numbers=FLOAT, observe: Callable | None = None) -> dict:
    """{node: d root / d node} for every node reachable from root, leaving every .grad as it
    was; observe(node, grad, local_grads, held) sees each step of the walk, in order: held is
    None, or for a node made the lecture's way, what its inputs' .grad hold after its
    closure ran on them (local_grads being what it hands each, measured apart)."""
    refuse_while_tracing("taking gradients (grad(), a drawing's backward steps)", _TRACED_GRADIENTS)
    mark = _Mark(-0.0)
    with GradsPutBack() as saved:
        everything = _sort(root, mark, with_leaves=True, saved=saved)  # leaves marked too
        root.grad = _constant(1.0) if numbers is VALUE else 1.0
        _walk([node for node in everything if node._a is not None], numbers, mark, observe)
        return {node: node.grad for node in everything}


def grad(output: Value, inputs: Value | Iterable[Value], create_graph: bool = False) -> list:
    """[d output / d x for x in inputs], leaving every ``.grad`` untouched.

    Like ``torch.autograd.grad``; an input that output does not depend on gets 0.
    With create_graph the gradients are Values that can be differentiated again.
    """
    if isinstance(inputs, Value):
        inputs = [inputs]
    try:
        each = iter(inputs)
    except TypeError:  # a number: "'float' object is not iterable"
        raise TypeError(f"grad(): expected a Value or a list of Values, got {inputs!r}") from None
    inputs = list(each)
    for x in [output, *inputs]:
        if not isinstance(x, Value):
            raise TypeError(f"grad(): expected Values, got {x!r}")
    if create_graph:
        with modes.enable_grad():
            grads = walk_aside(output, VALUE)
        return [grads[x] if x in grads else _constant(0.0) for x in inputs]
    grads = walk_aside(output, FLOAT)
    return [grads.get(x, 0.0) for x in inputs]

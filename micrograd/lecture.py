"""karpathy's lecture, unchanged: nodes made by hand and given a ``_backward`` closure.

The lecture builds an op as ``out = Value(self.data + other.data, (self, other), '+')`` and
then sets ``out._backward`` to a closure that adds to its inputs' ``.grad``; it can also walk
the graph itself, calling ``node._backward()`` in reversed topological order.

* Such a node is a ``ClosureNode``: a Value with one more slot, for the closure, so that
  ordinary nodes keep their size (an instance of a subclass of one's own keeps its closure in
  its ``__dict__``). Its op has no rule in the table (``derivative is None``).
* ``backward()`` and ``grad()`` call the closure on the inputs' own ``.grad``, as his
  ``backward()`` does, so that a closure that sets instead of adding (the lecture's
  deliberate bug) loses what another consumer handed, as in his engine. The step-through
  calls it more than once: with the inputs' ``.grad`` set aside, so that what it hands each
  input is known exactly, on the grads themselves, so that each frame holds what backward()
  leaves, and again for each caption, to find what it hands and whether it adds (a closure
  with side effects, a print, shows them each time: three times or more).
* ``create_graph`` and ``micrograd.compile`` need a rule written against ``F`` (on Values, on
  arrays), which a closure is not: they refuse such a node, saying so.
* Every other node answers ``node._backward()`` with its op's rule (``step``).
"""

from __future__ import annotations

import math

from . import backward, modes
from .engine import Value
from .floatmath import FLOAT
from .ops import Op

__all__ = ["ClosureNode", "attach", "closure_gradients", "no_rule", "run_closure", "step"]


class ClosureNode(Value):
    """A node made the lecture's way: ``Value(data, (a, b), '+')``, then ``out._backward = ...``."""

    __slots__ = ("_backward",)


def _nothing() -> None:  # the lecture's default _backward: a leaf has nothing to hand on
    return None


_CLOSURE_OPS: dict[tuple[str, int], Op] = {}


def _closure_op(symbol: str, arity: int) -> Op:
    """The op of a lecture node: its symbol, and no rule (one Op per symbol and arity)."""
    key = (symbol, arity)
    if key not in _CLOSURE_OPS:
        doc = f"{symbol or 'an op'} made the lecture's way: its gradient is its own _backward"
        names = ("a", "b")[:arity]
        _CLOSURE_OPS[key] = Op._make(symbol, arity, None, None, doc, symbol or "?", names, False)
    return _CLOSURE_OPS[key]


def attach(node: ClosureNode, children: object, op: object) -> None:
    """Make node the result of op on children, as ``Value(data, children, op)`` does."""
    if isinstance(children, str):
        raise TypeError(
            f"Value(): the second argument is the lecture's _children, a tuple of Values, got "
            f"{children!r}; give a label as label={children!r}"
        )
    inputs = tuple(children)
    if not 1 <= len(inputs) <= 2 or not all(isinstance(x, Value) for x in inputs):
        raise TypeError(
            f"Value(): _children must be one or two Values (the inputs of an op), got {children!r}"
        )
    if not isinstance(op, str):
        raise TypeError(f"Value(): _op must be a string such as '+', got {op!r}")
    node._backward = _nothing
    if not modes.is_grad_enabled():  # under no_grad a new leaf, as every op's result there
        return
    node._a = inputs[0]
    node._b = inputs[1] if len(inputs) == 2 else None
    node._op = _closure_op(op, len(inputs))
    if modes.anomaly_detected():  # watched as the table's ops are: its line, its forward
        modes.check_made(node, inputs)


def no_rule(op: Op) -> TypeError:
    """The refusal of what needs a rule written against F, for a lecture node's op."""
    return TypeError(
        f"op {op.name!r} was made the lecture's way, with a _backward closure: it has no rule "
        "written for Values or arrays, so create_graph (higher derivatives) and "
        "micrograd.compile cannot use it. Build it from Value's own operations, or write it as "
        "an Op row (micrograd.ops)."
    )


def closure_gradients(node: Value, node_grad, numbers) -> tuple:
    """What a lecture node's closure hands each input, given node_grad: the closure runs with
    the inputs' .grad set to -0.0 (so each ends up holding exactly what it was handed) and
    node.grad set to node_grad; every .grad is put back after. A repeated input (a + a) is
    handed both shares in its first slot."""
    if numbers is not FLOAT:
        raise no_rule(node._op)
    inputs = [node._a] if node._b is None else [node._a, node._b]
    with backward.GradsPutBack() as saved:  # all of them, however the closure ends
        saved += [(x, x.grad) for x in dict.fromkeys([node, *inputs])]
        for x in inputs:
            x.grad = -0.0  # the additive identity: x + -0.0 is exactly x
        node.grad = node_grad
        node._backward()
        handed = [x.grad for x in dict.fromkeys(inputs)]
    for amount in handed:
        _check_left(node, amount)
    if len(handed) < len(inputs):  # a + a: both shares arrived in the one input
        handed.append(0.0)
    return tuple(float(amount) for amount in handed)


def adds(node: Value) -> bool:
    """Whether a lecture node's closure adds to its inputs' .grad, as the chain rule needs,
    rather than setting it (the lecture's bug): its shares from inputs holding 1.0, less
    that 1.0, are those it hands inputs holding nothing. A + a that sets keeps only the
    last share, even where a held nothing before."""
    handed = closure_gradients(node, 1.0, FLOAT)
    inputs = list(dict.fromkeys([node._a] if node._b is None else [node._a, node._b]))
    with backward.GradsPutBack() as saved:
        saved += [(x, x.grad) for x in dict.fromkeys([node, *inputs])]
        for x in inputs:
            x.grad = 1.0
        node.grad = 1.0
        node._backward()
        kept = [x.grad - 1.0 for x in inputs]
    return all(math.isclose(k, h, rel_tol=1e-9, abs_tol=1e-12) for k, h in zip(kept, handed))


def _check_left(node: Value, amount) -> None:
    if isinstance(amount, bool) or not isinstance(amount, (int, float)):
        raise TypeError(
            f"the _backward of op {node._op.name!r} left {amount!r} in an input's .grad; "
            "it must add a number"
        )


def run_closure(node: Value, mark: float) -> None:
    """node._backward() as karpathy's backward() calls it: on the inputs' own .grad, so
    that a closure that sets instead of adds (the lecture's deliberate bug: self.grad =
    out.grad) loses what another consumer handed, as it does in his engine. mark is the
    walk's marker of an inner input no gradient has reached yet: -0.0 (a float) there
    before the call, so that one the closure leaves alone holds a plain number, as it would
    have received one. In anomaly mode, an input whose finite .grad the closure made nan or
    inf, from a finite node.grad, is named as other ops' gradients are."""
    inputs = [x for x in (node._a, node._b) if x is not None]
    for x in inputs:
        if x.grad is mark:
            x.grad = -0.0
    watched = modes.anomaly_detected()
    before = [x.grad for x in inputs] if watched else None
    node._backward()
    for x in inputs:
        _check_left(node, x.grad)
    if watched:
        modes.check_backward(node, node.grad, [x.grad for x in inputs], before)


def step(node: Value) -> None:
    """node._backward() for a node of the table's ops: hand node.grad to its inputs by the
    op's rule, adding to their .grad (the chain rule at one node, as the lecture's loop
    calls it)."""
    if node._a is None:
        return
    local_grads = backward.local_gradients(node, node.grad)
    node._a.grad += local_grads[0]
    if node._b is not None:
        node._b.grad += local_grads[1]

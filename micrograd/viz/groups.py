"""Which module (neuron or layer) each node of a model's graph belongs to.

A parameter belongs to the module its dotted name says (``layers.0.neurons.3.w.1`` is in
neuron ``layers.0.neurons.3``, layer ``layers.0``). A node belongs to a module when it uses
one of that module's parameters directly (``w * x``, ``b + w*x``); a sum of two such nodes of
the same module stays in it (the neuron's running sum); and one unary op on that sum (the
activation) closes the module: whatever uses the activation belongs to someone else.
"""

from __future__ import annotations

from ..engine import Value
from ..ops import ADD, CONST, LEAKY_RELU
from .graph import Graph

LEVELS = ("neuron", "layer")


def module_path(name: str, level: str) -> str:
    """The module owning parameter ``name``: its neuron, or that neuron's layer."""
    if level not in LEVELS:
        raise ValueError(f"drawing: group must be one of {LEVELS}, got {level!r}")
    parts = name.split(".")
    for _ in range(LEVELS.index(level) + 1):
        while parts and parts[-1].isdigit():  # list positions: w.1, layers.0
            parts.pop()
        if parts:
            parts.pop()  # the attribute: w, b, neurons, layers
    return ".".join(parts) or "(model)"


def node_groups(graph: Graph, level: str) -> list[str | None]:
    """For each node, the name of the module it belongs to at this level, or None."""
    groups: list[str | None] = [None] * len(graph.nodes)
    closed = [False] * len(graph.nodes)
    param_group = {
        value: module_path(name, level)
        for value, name in graph.param_names.items()
        if name is not None
    }
    if graph.param_names and not param_group:
        raise ValueError("drawing: grouping needs parameter names: pass a model or {name: Value}")
    for i, node in enumerate(graph.nodes):
        if node in param_group:
            groups[i] = param_group[node]
            continue
        if not node._prev:
            continue
        direct = [param_group[p] for p in node._prev if p in param_group]
        if direct:
            groups[i] = direct[0]
            continue
        inputs = [graph.index[p] for p in node._prev if p._op is not CONST]
        open_groups = {groups[j] for j in inputs if groups[j] is not None and not closed[j]}
        if len(open_groups) != 1 or any(groups[j] is None for j in inputs):
            continue
        if node._op is ADD:
            groups[i] = open_groups.pop()
        elif _is_activation(node):
            groups[i] = open_groups.pop()
            closed[i] = True
    return groups


def _is_activation(node: Value) -> bool:
    return node._op.arity == 1 or node._op is LEAKY_RELU

"""Which unit (neuron or layer) each node of a model's graph belongs to.

The model says where each parameter belongs (``parameter_groups(level)``, as micrograd.nn's
modules do); for a plain ``{name: Value}`` mapping, a parameter belongs to its dotted name's
path (``a.3.w.1`` to ``a.3``, and one level up, ``a``). A node belongs to a unit when it uses
one of that unit's parameters directly (``w * x``, ``b + w*x``); a sum of two such nodes of
the same unit stays in it (the neuron's running sum); and an activation on that sum (an op of
one input, or leaky_relu) closes the unit: whatever uses it belongs to another.
"""

from __future__ import annotations

from ..engine import Value
from ..ops import ADD, CONST, LEAKY_RELU
from .graph import Graph

LEVELS = ("neuron", "layer")


def module_path(name: str, level: str) -> str:
    """The unit a dotted parameter name belongs to: its path (neuron), or one level up."""
    if level not in LEVELS:
        raise ValueError(f"drawing: group must be one of {LEVELS}, got {level!r}")
    parts = name.split(".")
    for _ in range(LEVELS.index(level) + 1):
        while parts and parts[-1].isdigit():  # list positions: w.1, layers.0
            parts.pop()
        if parts:
            parts.pop()  # the attribute: w, b, neurons, layers
    return ".".join(parts) or "(model)"


def parameter_groups(graph: Graph, level: str) -> dict[Value, str]:
    """{parameter: its unit at level}, as the model says, or by the dotted names given."""
    if level not in LEVELS:
        raise ValueError(f"drawing: group must be one of {LEVELS}, got {level!r}")
    if hasattr(graph.params, "parameter_groups"):
        return dict(graph.params.parameter_groups(level))
    return {
        value: module_path(name, level)
        for value, name in graph.param_names.items()
        if name is not None
    }


def node_groups(graph: Graph, level: str) -> list[str | None]:
    """For each node, the name of the unit it belongs to at this level, or None."""
    groups: list[str | None] = [None] * len(graph.nodes)
    closed = [False] * len(graph.nodes)
    param_group = parameter_groups(graph, level)
    if not param_group:  # without params, no unit would be found: no box drawn, silently
        raise ValueError(
            "drawing: grouping needs the graph's parameters by name: pass params=model (or "
            "{name: Value})"
        )
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
        elif node._op.arity == 1 or node._op is LEAKY_RELU:  # an activation closes the unit
            groups[i] = open_groups.pop()
            closed[i] = True
    return groups

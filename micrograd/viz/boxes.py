"""Collapsed modules: one box per neuron or layer standing for all of its nodes."""

from __future__ import annotations

import math

from .graph import CURRENT, fmt, grad_text, html_text, number
from .groups import parameter_groups


def box_ids(groups: list, boxed: set[int]) -> dict[str, str]:
    """{module name: DOT id m0, m1, ...}, numbered in topological order of first node."""
    names = dict.fromkeys(groups[i] for i in sorted(boxed))
    return {name: f"m{k}" for k, name in enumerate(names)}


def boxes(graph, grads, groups, boxed, level, current=None) -> list[tuple[str | None, str, dict]]:
    """(cluster, id, attrs) of one box per collapsed module: its name, size, output and the
    norm of its parameters' gradients. Neurons sit in a cluster per layer. The box holding
    node ``current`` (a step of backward inside the module) is outlined as a current node."""
    consumers: list[list[int]] = [[] for _ in graph.nodes]
    for target in range(len(graph.nodes)):
        for j in graph.inputs(target):
            consumers[j].append(target)
    root = len(graph.nodes) - 1
    layer_of = parameter_groups(graph, "layer") if level == "neuron" else {}
    drawn = []
    for name, box_id in box_ids(groups, boxed).items():
        members = [i for i in sorted(boxed) if groups[i] == name]
        params = [i for i in members if graph.kinds[i] == "param"]
        outputs = [i for i in members if i == root or any(groups[t] != name for t in consumers[i])]
        # hypot: a sum of squares overflowed past 1e154 and read 0 below 1e-154
        norm = math.hypot(*(_grad_value(grads[i]) for i in params))
        rows = [
            f"<B>{html_text(name)}</B>",
            f"{len(params)} params · {len(members)} nodes",
            f"‖grad of params‖ {fmt(norm)}",
        ]
        if len(outputs) == 1:
            out = outputs[0]
            rows.append(f"out {fmt(graph.nodes[out].data)}, grad {grad_text(grads[out])}")
        else:
            rows.append(f"{len(outputs)} outputs")
        body = "".join(f"<TR><TD>{row}</TD></TR>" for row in rows)
        holds_current = current in members
        border, color = (3, CURRENT) if holds_current else (1, "#6d28d9")
        label = (
            f'<<TABLE BORDER="{border}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" '
            f'STYLE="rounded" BGCOLOR="#ede9fe" COLOR="{color}">{body}</TABLE>>'
        )
        kind = "module current" if holds_current else "module"
        attrs = {"label": label, "shape": "plain", "id": box_id, "class": kind}
        layer = None
        if level == "neuron" and params:
            layer = layer_of.get(graph.nodes[params[0]])
        drawn.append((layer, box_id, attrs))
    return drawn


def _grad_value(grad) -> float:
    return 0.0 if grad is None else number(grad)

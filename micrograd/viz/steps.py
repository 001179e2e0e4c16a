"""The backward pass, one step at a time: frames for a notebook, and one HTML page."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

from .dot import build
from .graph import Graph, fmt, index_graph, local_grads
from .page import PAGE
from .render import svg_texts


@dataclass(frozen=True)
class Edge:
    """Gradient ``amount`` sent from node ``target`` to its input number ``slot``, ``source``."""

    source: int
    target: int
    slot: int
    amount: float


@dataclass(frozen=True)
class Frame:
    """One step of backward: node ``index`` (``node``) hands its gradient ``grad`` to its
    inputs along ``edges``; ``grads`` maps node index -> gradient known after this step."""

    step: int
    index: int
    node: object = field(repr=False)
    grad: float
    edges: tuple[Edge, ...]
    grads: dict[int, float]
    graph: Graph = field(repr=False)


def backward_steps(root, params: object = None) -> Iterator[Frame]:
    """Yield one Frame per non-leaf node, in the order ``root.backward()`` processes them
    (reversed topological order). Gradients go into the frames' own dicts: no ``.grad``
    is read or changed, so the last frame's ``grads`` equal a fresh ``backward()``'s."""
    graph = index_graph(root, params)
    grads: dict[int, float] = {len(graph.nodes) - 1: 1.0}
    step = 0
    for i in reversed(range(len(graph.nodes))):
        node = graph.nodes[i]
        if not node._prev:
            continue
        node_grad = grads.get(i, 0.0)
        edges = []
        for slot, (j, amount) in enumerate(zip(graph.inputs(i), local_grads(node, node_grad))):
            grads[j] = grads.get(j, 0.0) + amount
            edges.append(Edge(j, i, slot, amount))
        yield Frame(step, i, node, node_grad, tuple(edges), dict(grads), graph)
        step += 1


def draw_step(frame: Frame, rankdir: str = "LR", **options):
    """A Digraph of the graph at this frame: known gradients shown (others as ?), the node
    being processed outlined in red, the edges it just sent gradient along in red, and each
    Value numbered #i as in the frames (options: those of draw_dot)."""
    grads = [frame.grads.get(i) for i in range(len(frame.graph.nodes))]
    sent = {(edge.target, edge.slot): edge.amount for edge in frame.edges}
    options.setdefault("numbered", True)
    return build(frame.graph, grads, rankdir, current=frame.index, sent=sent, **options)


def caption(frame: Frame) -> str:
    """What this step does: 'Step 3: #10 = #6 * #9 has grad 1.000; the chain rule sends
    2.000 to #6 and -0.3969 to #9.'"""
    graph = frame.graph
    inputs = [_name(graph, edge.source) for edge in frame.edges]
    op = str(frame.node._op)
    if len(inputs) == 2 and not op.isidentifier():  # a * b, but leaky_relu(a, alpha)
        formula = f"{inputs[0]} {op} {inputs[1]}"
    else:
        formula = f"{op}({', '.join(inputs)})"
    sends = " and ".join(f"{fmt(edge.amount)} to {name}" for edge, name in zip(frame.edges, inputs))
    return (
        f"Step {frame.step + 1}: {_name(graph, frame.index)} = {formula} has grad "
        f"{fmt(frame.grad)}; the chain rule sends {sends}."
    )


def _name(graph: Graph, i: int) -> str:
    label = graph.nodes[i].label
    return f"#{i} ({label})" if label else f"#{i}"


def save_backward_html(
    root, path: str | PathLike, params: object = None, max_frames: int = 400, **options
) -> Path:
    """Write one self-contained HTML page (inline SVG, CSS and JS; no network) walking
    through root's backward pass: Previous/Next buttons, a slider and the arrow keys."""
    frames = list(backward_steps(root, params))
    if not frames:
        raise ValueError("save_backward_html: root is a leaf; there is no backward pass to show")
    if len(frames) > max_frames:
        raise ValueError(
            f"save_backward_html: {len(frames)} steps is more than max_frames={max_frames}; "
            "draw a smaller graph or raise max_frames"
        )
    svgs = svg_texts([draw_step(frame, **options) for frame in frames])
    sections = []
    for frame, svg in zip(frames, svgs):
        svg = svg[svg.index("<svg") :]
        svg = re.sub(r'\bid="', f'id="f{frame.step}-', svg)  # ids unique across frames
        sections.append(
            f'<section class="frame" data-step="{frame.step}" data-node="{frame.index}" '
            f'data-caption="{html.escape(caption(frame))}" hidden>{svg}</section>'
        )
    final = {str(i): grad for i, grad in frames[-1].grads.items()}
    page = PAGE.replace("{{FRAMES}}", "\n".join(sections))
    page = page.replace("{{COUNT}}", str(len(frames)))
    page = page.replace("{{GRADS}}", html.escape(json.dumps(final, allow_nan=True)))
    path = Path(path)
    path.write_text(page, encoding="utf-8")
    return path

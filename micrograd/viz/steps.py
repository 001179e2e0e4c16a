"""The backward pass, one step at a time: frames for a notebook, and one HTML page."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
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
    node: object
    grad: float
    edges: tuple[Edge, ...]
    grads: dict[int, float]
    graph: Graph


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
    being processed outlined in red, the edges it just sent gradient along in red."""
    grads = [frame.grads.get(i) for i in range(len(frame.graph.nodes))]
    sent = {(edge.target, edge.slot): edge.amount for edge in frame.edges}
    return build(frame.graph, grads, rankdir, current=frame.index, sent=sent, **options)


def caption(frame: Frame) -> str:
    """One sentence saying what this step does, e.g. 'node 5 (tanh) ... sends 0.42 to 4'."""
    graph = frame.graph
    sends = ", ".join(f"{fmt(edge.amount)} to {_name(graph, edge.source)}" for edge in frame.edges)
    return (
        f"Node {_name(graph, frame.index)} = {frame.node._op}(...) has grad {fmt(frame.grad)}; "
        f"the chain rule sends {sends}."
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

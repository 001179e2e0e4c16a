"""The backward pass, one step at a time: frames for a notebook, and one HTML page."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from os import PathLike
from pathlib import Path

from ..backward import walk_aside
from .dot import MAX_NODES, build
from .graph import Graph, fmt, index_graph, printable
from .page import PAGE
from .render import svg_texts


@dataclass(frozen=True, slots=True)
class Edge:
    """Gradient ``amount`` sent from node ``target`` to its input number ``slot``, ``source``."""

    source: int
    target: int
    slot: int
    amount: float


@dataclass(frozen=True, slots=True)
class Walk:
    """One run of backward_steps, shared by its frames: the graph, and the edges each step
    sent (``sent[k]`` is step k's), appended as the frames are made."""

    graph: Graph
    sent: list[tuple[Edge, ...]]


@dataclass(frozen=True, slots=True, repr=False)
class Frame:
    """One step of backward: node ``index`` (``node``) hands its gradient ``grad`` to its
    inputs along ``edges``; ``grads`` maps node index -> gradient known after this step,
    derived from the steps so far (kept once, in ``walk``) rather than copied into every
    frame, so memory grows linearly with the steps."""

    step: int
    index: int
    node: object = field(repr=False)
    grad: float
    edges: tuple[Edge, ...]
    walk: Walk = field(repr=False, compare=False)

    @property
    def graph(self) -> Graph:
        """The numbered graph being walked."""
        return self.walk.graph

    @property
    def grads(self) -> dict[int, float]:
        """node index -> gradient known after this step: the root's 1.0 plus all that steps
        0..step sent. A new dict on each read, summed in backward()'s order."""
        grads = {len(self.graph.nodes) - 1: 1.0}
        for edges in islice(self.walk.sent, self.step + 1):
            _receive(grads, edges)
        return grads

    def __repr__(self) -> str:
        return (
            f"Frame(step={self.step!r}, index={self.index!r}, grad={self.grad!r}, "
            f"edges={self.edges!r}, grads={self.grads!r})"
        )


def _receive(grads: dict[int, float], edges: tuple[Edge, ...]) -> None:
    """Add what edges carry to their sources' gradients (they accumulate, as in backward)."""
    for edge in edges:
        grads[edge.source] = grads.get(edge.source, 0.0) + edge.amount


def step_count(graph: Graph) -> int:
    """How many steps backward takes: one per node with inputs; no frame is built."""
    return sum(1 for node in graph.nodes if node._prev)


def backward_steps(root, params: object = None) -> Iterator[Frame]:
    """Yield one Frame per non-leaf node, in the order ``root.backward()`` processes them
    (reversed topological order). No ``.grad`` is read or changed, so the last frame's
    ``grads`` equal a fresh ``backward()``'s. Each frame holds only what its step sent, so
    memory grows linearly with the steps."""
    yield from _frames(index_graph(root, params))


def _frames(graph: Graph) -> Iterator[Frame]:
    """The frames of backward's own walk (micrograd.backward.walk_aside), step by step."""
    steps: list[tuple] = []
    walk_aside(
        graph.root, observe=lambda node, grad, local_grads: steps.append((node, grad, local_grads))
    )
    walk = Walk(graph, [])
    for step, (node, node_grad, local_grads) in enumerate(steps):
        i = graph.index[node]
        edges = tuple(
            Edge(j, i, slot, float(amount))
            for slot, (j, amount) in enumerate(zip(graph.inputs(i), local_grads))
        )
        walk.sent.append(edges)
        yield Frame(step, i, node, node_grad, edges, walk)


def draw_step(frame: Frame, rankdir: str = "LR", **options):
    """A Digraph of the graph at this frame: known gradients shown (others as ?), the node
    being processed outlined in red, the edges it just sent gradient along in red, and each
    Value numbered #i as in the frames (options: those of draw_dot)."""
    return _draw(frame, frame.grads, rankdir, **options)


def _draw(frame: Frame, grads: dict[int, float], rankdir: str = "LR", **options):
    """draw_step with the gradients known after frame given, rather than replayed."""
    known = [grads.get(i) for i in range(len(frame.graph.nodes))]
    sent = {(edge.target, edge.slot): edge.amount for edge in frame.edges}
    options.setdefault("numbered", True)
    options.setdefault("max_nodes", MAX_NODES)
    return build(frame.graph, known, rankdir, current=frame.index, sent=sent, **options)


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
    return f"#{i} ({printable(label)})" if label else f"#{i}"


def save_backward_html(
    root, path: str | PathLike, params: object = None, max_frames: int = 400, **options
) -> Path:
    """Write one self-contained HTML page (inline SVG, CSS and JS; no network) walking
    through root's backward pass: Previous/Next buttons, a slider and the arrow keys.
    Refuses a root with more than max_frames steps before building any frame."""
    graph = index_graph(root, params)
    count = step_count(graph)
    if not count:
        raise ValueError("save_backward_html: root is a leaf; there is no backward pass to show")
    if count > max_frames:
        raise ValueError(
            f"save_backward_html: {count} steps is more than max_frames={max_frames}; "
            "draw a smaller graph or raise max_frames"
        )
    grads: dict[int, float] = {len(graph.nodes) - 1: 1.0}  # running: each frame adds its edges
    dots, heads = [], []
    for frame in _frames(graph):
        _receive(grads, frame.edges)
        dots.append(_draw(frame, grads, refuse=True, **options))  # too big: refused at once
        heads.append(
            f'<section class="frame" data-step="{frame.step}" data-node="{frame.index}" '
            f'data-caption="{html.escape(caption(frame))}" hidden>'
        )
    sections = []
    for step, (head, svg) in enumerate(zip(heads, svg_texts(dots))):
        svg = svg[svg.index("<svg") :]
        svg = re.sub(r'\bid="', f'id="f{step}-', svg)  # ids unique across frames
        sections.append(f"{head}{svg}</section>")
    final = {str(i): grad for i, grad in grads.items()}
    page = PAGE.replace("{{FRAMES}}", "\n".join(sections))
    page = page.replace("{{COUNT}}", str(count))
    page = page.replace("{{GRADS}}", html.escape(json.dumps(final, allow_nan=True)))
    path = Path(path)
    path.write_text(page, encoding="utf-8")
    return path

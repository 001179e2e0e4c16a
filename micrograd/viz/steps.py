"""The backward pass, one step at a time: frames, their captions (the chain rule at each
step), a stepper inside a notebook, and one HTML page."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from os import PathLike
from pathlib import Path

from .. import lecture
from ..backward import walk_aside, walked
from ..files import check_suffix, write_atomically
from ..formulas import FUNCTIONS
from .dot import MAX_NODES, build, check_options
from .graph import Graph, fmt, index_graph, local_grads, printable
from .page import PAGE
from .stepper import new_uid, stepper_html


@dataclass(frozen=True, slots=True)
class Edge:
    """Gradient ``amount`` sent from node ``target`` to its input number ``slot``, ``source``.
    ``held``: for a node made the lecture's way, what the source's .grad holds after its
    closure ran, which is not the sum when the closure sets instead of adds (else None)."""

    source: int
    target: int
    slot: int
    amount: float
    held: float | None = None


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
    """Add what edges carry to their sources' gradients (they accumulate, as in backward),
    or, from a lecture closure, take what it left there."""
    for edge in edges:
        if edge.held is not None:
            grads[edge.source] = edge.held
        else:
            grads[edge.source] = grads.get(edge.source, 0.0) + edge.amount


def step_count(graph: Graph) -> int:
    """How many steps backward takes: one per node it walks (micrograd.backward.walked); no
    frame is built."""
    return len(walked(graph.root))


def backward_steps(root, params: object = None) -> Iterator[Frame]:
    """Yield one Frame per non-leaf node, in the order ``root.backward()`` processes them
    (reversed topological order). No ``.grad`` is read or changed, so the last frame's
    ``grads`` equal a fresh ``backward()``'s. Each frame holds only what its step sent, so
    memory grows linearly with the steps."""
    yield from _frames(index_graph(root, params))


def _frames(graph: Graph) -> Iterator[Frame]:
    """The frames of backward's own walk (micrograd.backward.walk_aside), step by step."""
    steps: list[tuple] = []
    walk_aside(graph.root, observe=lambda *step: steps.append(step))
    walk = Walk(graph, [])
    for node, _, amounts, held in steps:
        i = graph.index[node]
        walk.sent.append(
            tuple(
                Edge(j, i, slot, float(amount), None if held is None else float(held[slot]))
                for slot, (j, amount) in enumerate(zip(graph.inputs(i), amounts))
            )
        )
    for step, ((node, node_grad, _, _), edges) in enumerate(zip(steps, walk.sent)):
        yield Frame(step, graph.index[node], node, node_grad, edges, walk)


def draw_step(frame: Frame, rankdir: str = "LR", **options):
    """A Digraph of the graph at this frame: known gradients shown (others as ?), the node
    being processed outlined in red, the edges it just sent gradient along in red, and each
    Value numbered #i as in the frames (options: those of draw_dot)."""
    if not isinstance(frame, Frame):  # a Value, say: 'Value' object has no attribute 'grads'
        raise TypeError(
            f"draw_step: expected a Frame, one of backward_steps(root), got "
            f"{type(frame).__name__}; draw_dot(root) draws a Value"
        )
    check_options("draw_step", options)
    return _draw(frame, frame.grads, rankdir, **options)


def _draw(frame: Frame, grads: dict[int, float], rankdir: str = "LR", **options):
    """draw_step with the gradients known after frame given, rather than replayed."""
    known = [grads.get(i) for i in range(len(frame.graph.nodes))]
    # every edge is labelled in every frame (the amount it carries, shown once sent), so
    # that the layout stays still from frame to frame and labels are placed among the nodes
    flow = {
        (edge.target, edge.slot): (edge.amount, _state(step, frame.step))
        for step, edges in enumerate(frame.walk.sent)
        for edge in edges
    }
    options.setdefault("numbered", True)
    options.setdefault("max_nodes", MAX_NODES)
    return build(frame.graph, known, rankdir, current=frame.index, flow=flow, **options)


def _state(step: int, now: int) -> str:
    return "sent" if step == now else ("done" if step < now else "pending")


def caption(frame: Frame) -> str:
    """What this step does, as the chain rule in symbols and numbers. For c = a * b, a later
    step than the root's, with c.grad = 5 and b = 3: 'Step 3: c = a * b, and c.grad = 5.000.
    The chain rule: dc/da = b = 3.000, so a.grad += 5.000 × 3.000 = 15.00; dc/db = a = ...'.
    Each local derivative is the op row's formula (Op.partials) in the inputs' names; an
    input that already had a gradient shows the sum it accumulates. Constants (the 2 of
    2 * x) are left out: their gradients are never used."""
    graph, node = frame.graph, frame.node
    before = {len(graph.nodes) - 1: 1.0}  # what each node had received before this step
    for edges in islice(frame.walk.sent, frame.step):
        _receive(before, edges)
    names = [_name(graph, edge.source) for edge in frame.edges]
    out = _name(graph, frame.index)
    head = f"Step {frame.step + 1}: {out} = {_formula(node._op, names)}, and {out}.grad = "
    head += f"{fmt(frame.grad)}."
    locals_ = local_grads(node, 1.0)  # the rules are linear in the gradient: at 1, d out/d in
    partials = node._op.partials or (None,) * len(frame.edges)
    symbols = dict(zip(node._op.inputs, names), out=out)
    twice = _one_input_twice_by_closure(node, frame.edges)
    parts = [_both_slots(frame, names[0], sum(locals_), before)] if twice else []
    for edge, name, local, partial in [] if twice else zip(frame.edges, names, locals_, partials):
        if graph.kinds[edge.source] == "const":
            continue
        derivative = f"d{out}/d{name} = "
        if partial is not None:
            written = _substituted(partial, symbols)
            # a formula that is a number ("1") as it is; the others with their value (a
            # label "inf" substituted for b is no number)
            derivative += written if _is_number(partial) else f"{written} = {fmt(local)}"
        else:  # an op without formulas: its rule's (or closure's) number only
            by = (
                "its _backward closure"
                if node._op.derivative is None
                else "the op's derivative rule"
            )
            derivative += f"{fmt(local)} (by {by})"
        sum_ = f"{name}.grad += {fmt(frame.grad)} × {fmt(local)} = {fmt(edge.amount)}"
        total = before.get(edge.source, 0.0) + edge.amount
        if edge.held is not None and not _same(edge.held, total):  # the lecture's bug
            sum_ += (
                f", but its _backward closure left {name}.grad = {fmt(edge.held)}: it sets "
                f"instead of adding, so the {fmt(before.get(edge.source, 0.0))} it held is "
                f"lost (adding gives {fmt(total)})"
            )
        elif edge.source in before:  # a repeated input: the gradients add up
            sum_ += f", now {fmt(before[edge.source])} + {fmt(edge.amount)} = {fmt(total)}"
        _receive(before, (edge,))
        parts.append(f"{derivative}, so {sum_}")
    if not parts:
        return f"{head} Its inputs are constants: nothing to send."
    return f"{head} The chain rule: " + "; ".join(parts) + "."


def _one_input_twice_by_closure(node, edges) -> bool:
    """A node made the lecture's way with one input in both slots (a + a): its closure's
    two shares land in one .grad, and cannot be told apart."""
    return node._op.derivative is None and len(edges) == 2 and edges[0].source == edges[1].source


def _both_slots(frame: Frame, name: str, local: float, before: dict) -> str:
    """The caption's part for a lecture node with one input in both slots."""
    out = _name(frame.graph, frame.index)
    amount = sum(edge.amount for edge in frame.edges)
    source, held = frame.edges[0].source, frame.edges[0].held
    text = (
        f"d{out}/d{name}, {name} being both inputs, = {fmt(local)} in all (by its _backward "
        f"closure), so {name}.grad += {fmt(frame.grad)} × {fmt(local)} = {fmt(amount)}"
    )
    if not lecture.adds(frame.node):  # the lecture's bug: the second share overwrote the first
        text += (
            f", but its _backward closure sets {name}.grad instead of adding to it, so "
            f"{name} keeps only the last of its two shares: {fmt(held)}"
        )
    elif source in before:
        text += f", now {fmt(before[source])} + {fmt(amount)} = {fmt(before[source] + amount)}"
    _receive(before, frame.edges)
    return text


def _same(x: float, y: float) -> bool:
    """x is y but for rounding: a closure that adds twice into one input (a + a) rounds
    (before + g) + g, where the caption adds before + (g + g)."""
    return x == y or (x != x and y != y) or math.isclose(x, y, rel_tol=1e-9)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _formula(op, names: list[str]) -> str:
    if len(names) == 2 and not op.isidentifier():  # a * b, but leaky_relu(a, alpha)
        return f"{_bracketed(names[0])} {op} {_bracketed(names[1])}"
    return f"{op}({', '.join(names)})"


def _bracketed(term: str) -> str:
    """A negative constant next to an operator in brackets: -2.000 ** x reads -(2 ** x)."""
    return f"({term})" if term.startswith("-") else term


_SYMBOL = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_FUNCTIONS = {*FUNCTIONS, "if", "else", "is", "nan"}  # the words of a formula not names


def _substituted(formula: str, symbols: dict[str, str]) -> str:
    """formula with each input name (a, b, alpha, out) replaced by the node it stands for."""

    def replaced(m: re.Match) -> str:
        if m.group() in _FUNCTIONS or m.group() not in symbols:
            return m.group()
        alone = m.span() == (0, len(formula)) or (
            formula[m.start() - 1 : m.start()] == "(" and formula[m.end() : m.end() + 1] == ")"
        )  # the whole formula, or a function's one argument: no brackets needed
        return symbols[m.group()] if alone else _bracketed(symbols[m.group()])

    return _SYMBOL.sub(replaced, formula)


def _name(graph: Graph, i: int) -> str:
    """A node as captions name it: its label, its number (#i) if it has none, the number
    itself for a constant; in brackets if the label is not one word (x1*w1)."""
    node = graph.nodes[i]
    if graph.kinds[i] == "const":
        return fmt(node.data)
    if not node.label:
        return f"#{i}"
    label = printable(node.label)
    return label if _SYMBOL.fullmatch(label) else f"({label})"


MAX_FRAME_NODES = 100_000
"""The most nodes a stepper lays out over all its frames by default: Graphviz lays out each
frame anew (a chain of 200 steps, 120,000 nodes in all, took 32 s; one of 399 steps, 478,000
nodes, 7 minutes)."""


def _stepper(root, params, max_frames: int, keys: str, caller: str, **options) -> str:
    """The stepper's HTML for root's backward pass (see micrograd.viz.stepper). Refuses a root
    with more than max_frames steps before building any frame."""
    if type(max_frames) is not int or max_frames < 1:
        raise ValueError(f"{caller}: max_frames must be an integer >= 1, got {max_frames!r}")
    check_options(caller, options)
    graph = index_graph(root, params)
    count = step_count(graph)
    if not count:
        raise ValueError(f"{caller}: root is a leaf; there is no backward pass to show")
    if count > max_frames:
        raise ValueError(
            f"{caller}: {count} steps is more than max_frames={max_frames}; "
            "draw a smaller graph or raise max_frames"
        )
    limited = options.get("max_nodes", MAX_NODES) is not None
    running: dict[int, float] = {len(graph.nodes) - 1: 1.0}  # each frame adds its edges
    frames, dots, total = [], [], 0
    for frame in _frames(graph):
        _receive(running, frame.edges)
        frames.append(frame)
        dots.append(_draw(frame, running, refuse=True, **options))  # too big: refused at once
        total += dots[-1].drawn_nodes
        # every frame draws the same nodes: the first tells what all of them will cost, before
        # the rest are built (a chain of 10,000 steps took 7 minutes to be refused)
        if limited and max(total, count * dots[0].drawn_nodes) > MAX_FRAME_NODES:
            raise ValueError(
                f"{caller}: {count} steps of {dots[-1].drawn_nodes} nodes each are more than "
                f"{MAX_FRAME_NODES:,} nodes for Graphviz to lay out, one frame at a time "
                "(half a minute or more); draw fewer (max_depth=k, or group=... with "
                "collapse=True for a model), or pass max_nodes=None to lay them all out"
            )
    notes = [_where_drawn(frame, dot, options) for frame, dot in zip(frames, dots)]
    return stepper_html(graph, frames, running, dots, keys, notes)


def _where_drawn(frame: Frame, dot, options: dict) -> str:
    """What a caption adds when the node of its step is not drawn as itself: collapsed into
    its module's box, or left out by max_depth."""
    name = _name(frame.graph, frame.index)
    if dot.current_box is not None:
        return f" ({name} is inside {dot.current_box}, drawn as one box, outlined in red.)"
    if dot.current_hidden:
        depth = options["max_depth"]
        return f" ({name} is not drawn: it is more than max_depth={depth} ops from the root.)"
    return ""


def save_backward_html(
    root, path: str | PathLike, params: object = None, max_frames: int = 400, **options
) -> Path:
    """Write one self-contained HTML page (inline SVG, CSS and JS; no network) walking
    through root's backward pass: Previous/Next buttons, a slider, zoom, and the arrow keys.
    Refuses a root with more than max_frames steps before building any frame, and frames of
    more than MAX_FRAME_NODES nodes in all (unless max_nodes=None) before any layout. Without
    Graphviz's dot the page is still written, each step a table of the nodes."""
    check_suffix(path, "save_backward_html", "a web page", (".html", ".htm"))
    stepper = _stepper(root, params, max_frames, "page", "save_backward_html", **options)
    path = Path(path)
    write_atomically(str(path), PAGE.replace("{{STEPPER}}", stepper), "save_backward_html")
    return path


class StepThrough:
    """root's backward pass as a stepper inside a notebook: Previous, Next, a slider, zoom
    and the arrow keys (once clicked), in one self-contained piece of HTML. Where a notebook
    viewer runs no script, the last step shows, still. ``html`` is the piece itself."""

    def __init__(self, root, params: object = None, max_frames: int = 200, **options):
        self.html = _stepper(root, params, max_frames, "self", "step_through", **options)
        self._shown = False

    def _repr_html_(self) -> str:
        """The stepper; shown again (display(s) in another cell), with ids of its own: its
        script finds its elements by id, and a second copy under the first's stayed dead."""
        if not self._shown:
            self._shown = True
            return self.html
        uid = re.search(r'id="(micrograd-stepper-[0-9a-f]+-[0-9]+)"', self.html).group(1)
        return self.html.replace(uid, new_uid())


def step_through(root, params: object = None, max_frames: int = 200, **options) -> StepThrough:
    """Step through root's backward pass inside Jupyter (the page save_backward_html
    writes, as a cell's output): each step's caption states the chain rule in symbols and
    numbers. Options are draw_dot's (rankdir, max_nodes, ...); params tells parameters from
    inputs. Refuses more than max_frames steps: the frames live in the notebook file."""
    return StepThrough(root, params, max_frames, **options)

"""Graphviz drawings of a Value's graph: one box per Value, one small node per operation.

Styles, by node kind (``micrograd.viz.graph.KINDS``):

=========  ===========================================  ==================================
kind       what                                         drawn as
=========  ===========================================  ==================================
root       the Value you drew                           orange box, thick border
param      a leaf listed in ``params``                  blue box
input      a leaf not listed in ``params``              green box
leaf       a leaf, when ``params`` is not given         blue box
const      a number lifted into the graph (2 in 2*x)    grey dashed box, data only
value      every other Value                            white box
=========  ===========================================  ==================================

Operations are small grey ellipses; each input edge can carry the gradient it hands back.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

from .boxes import box_ids, boxes
from .graph import (
    CURRENT,
    Graph,
    fmt,
    grad_text,
    html_text,
    index_graph,
    local_grads,
    printable,
)
from .groups import node_groups
from .render import MAX_NODES, check_size, digraph

STYLES = {  # kind: (fill, border, table style, border width, legend text)
    "root": ("#fed7aa", "#c2410c", "rounded", 3, "root (the output drawn)"),
    "param": ("#dbeafe", "#1d4ed8", "rounded", 1, "parameter"),
    "input": ("#dcfce7", "#15803d", "rounded", 1, "input"),
    "leaf": ("#dbeafe", "#1d4ed8", "rounded", 1, "leaf (input or parameter)"),
    "const": ("#f3f4f6", "#6b7280", "dashed", 1, "constant"),
    "value": ("#ffffff", "#374151", "rounded", 1, "intermediate value"),
}
RANKDIRS = ("LR", "RL", "TB", "BT")
OPTIONS = ("rankdir", "edge_grads", "legend", "group", "collapse", "max_depth", "max_nodes")
"""draw_dot's options, which save_svg and the steppers pass on to it."""


def check_options(caller: str, options: Mapping) -> None:
    """A TypeError naming caller for an option draw_dot does not take (build() would name
    itself, or take one of its own, such as current=)."""
    unknown = [name for name in options if name not in OPTIONS]
    if unknown:
        raise TypeError(
            f"{caller}: unexpected option {unknown[0]!r}; the drawing options are "
            f"{', '.join(OPTIONS)}"
        )


FONT = "Helvetica"
_CELL = 'WIDTH="78" ALIGN="LEFT"'  # fixed minimum widths keep a layout still across frames


def draw_dot(
    root,
    rankdir: str = "LR",
    *,
    params: object = None,
    edge_grads: bool = False,
    legend: bool = False,
    group: str | None = None,
    collapse: bool = False,
    max_depth: int | None = None,
    max_nodes: int | None = MAX_NODES,
):
    """root's graph as a ``graphviz.Digraph`` (shown inline as SVG in Jupyter).

    ``params`` (a model, ``{name: Value}`` or Values) tells parameters from inputs;
    ``edge_grads`` labels each input edge with the gradient it contributes; ``legend``
    adds a key. For models: ``group="neuron"`` or ``"layer"`` boxes each module's nodes in
    a labelled cluster (needs named parameters), ``collapse`` draws each module as one box,
    and ``max_depth`` keeps only nodes at most that many operations from the root.
    Rendering (Jupyter's inline SVG, ``pipe``, ``render``) refuses a drawing of more than
    ``max_nodes`` nodes (None: no limit), counted after max_depth and collapse, since
    Graphviz would take minutes, and one whose edges cross too many ranks in all (an input
    read all along a long chain; ``virtual_nodes`` on the result counts them), which takes
    as long; max_nodes=None lifts both. Its ``.source`` is always there.
    """
    graph = index_graph(root, params)
    grads = [node.grad for node in graph.nodes]
    return build(
        graph, grads, rankdir, edge_grads, legend, group, collapse, max_depth, max_nodes=max_nodes
    )


def build(
    graph: Graph,
    grads: list,
    rankdir: str = "LR",
    edge_grads: bool = False,
    legend: bool = False,
    group: str | None = None,
    collapse: bool = False,
    max_depth: int | None = None,
    current: int | None = None,
    numbered: bool = False,
    flow: Mapping[tuple[int, int], tuple[float, str]] | None = None,
    max_nodes: int | None = None,
    refuse: bool = False,
):
    """The Digraph for graph with these grads (None: not known yet), the node ``current``
    highlighted (or the box it is collapsed into; ``current_box`` and ``current_hidden`` on
    the result say where it went); ``flow`` ({(target, slot): (amount, state)}) labels input
    edges with the gradient they carry in a backward step: red when "sent" now, grey when
    "done" before, invisible (but laid out) while "pending". ``numbered`` shows each Value's
    index (#i, its position in topological order). Past ``max_nodes`` nodes it refuses to
    render, or with ``refuse`` to be built at all."""
    if rankdir not in RANKDIRS:
        raise ValueError(f"draw_dot: rankdir must be one of {RANKDIRS}, got {rankdir!r}")
    for name, value, least in (("max_depth", max_depth, 0), ("max_nodes", max_nodes, 1)):
        if value is not None and (type(value) is not int or value < least):  # not 1.5, True
            raise ValueError(
                f"draw_dot: {name} must be None or an integer >= {least}, got {value!r}"
            )
    if collapse and group is None:
        raise ValueError('draw_dot: collapse=True needs group="neuron" or group="layer"')
    shown = _within_depth(graph, max_depth)
    groups = node_groups(graph, group) if group else [None] * len(graph.nodes)
    boxed = {i for i in shown if collapse and groups[i] is not None}
    values = shown - boxed  # a box and, unless a leaf, an op ellipse each
    drawn_nodes = len(values) + sum(1 for i in values if graph.nodes[i]._prev)
    drawn_nodes += len(box_ids(groups, boxed))
    labelled = edge_grads or bool(flow)
    virtual = _virtual_nodes(graph, values, labelled)
    if refuse:  # before writing any DOT: for 50,000 nodes that alone takes seconds
        check_size(drawn_nodes, max_nodes, virtual, labelled)
    dot = digraph(drawn_nodes, max_nodes, virtual, labelled)
    # nslimit bounds dot's network simplex (2 passes' worth of iterations a node): a graph of
    # many paths through one shared input (a loss over 60 points sharing w and b, 783 nodes)
    # took 72 s unbounded and takes 3 s; small graphs lay out as before
    dot.attr(rankdir=rankdir, bgcolor="white", fontname=FONT, nodesep="0.15", ranksep="0.3",
             nslimit="2", nslimit1="2")  # fmt: skip
    dot.attr("node", fontname=FONT, fontsize="10", margin="0")
    dot.attr("edge", fontname=FONT, fontsize="9", color="#4b5563", arrowsize="0.6")
    flow = flow or {}
    clusters: dict[str, list[tuple[str, dict]]] = {}
    plain: list[tuple[str, dict]] = []
    for i in sorted(values):
        target = clusters.setdefault(groups[i], []) if groups[i] is not None else plain
        target.append((f"v{i}", _value_attrs(graph, i, grads[i], i == current, numbered)))
        if graph.nodes[i]._prev:
            target.append((f"o{i}", _op_attrs(graph, i, i == current)))
    for cluster, name, attrs in boxes(graph, grads, groups, boxed, group, current):
        (clusters.setdefault(cluster, []) if cluster else plain).append((name, attrs))
    for name, entries in plain:
        dot.node(name, **entries)
    for number, (name, entries) in enumerate(clusters.items()):
        with dot.subgraph(name=f"cluster_{number}") as cluster:
            title = html_text(name)
            cluster.attr(label=f"<<B>{title}</B>>", style="rounded,filled", fillcolor="#f9fafb")
            cluster.attr(color="#9ca3af", fontsize="11", labeljust="l")
            for node_name, attrs in entries:
                cluster.node(node_name, **attrs)
    _add_edges(dot, graph, grads, groups, shown, boxed, edge_grads, current, flow)
    if legend:
        _add_legend(dot, {graph.kinds[i] for i in shown - boxed})
    # where the current node is, for a stepper's caption: drawn, in a box, or left out
    dot.current_box = groups[current] if current in boxed else None
    dot.current_hidden = current is not None and current not in shown
    return dot


def _virtual_nodes(graph: Graph, values: set[int], labelled: bool) -> int:
    """About how many virtual nodes dot adds to lay out the Values drawn as themselves (a
    collapsed graph is small): an edge k ranks long crosses k - 1 ranks, a node each, and
    labelled edges take a rank of their own, so that every span doubles. dot ranks so that
    the edges are as short as it can make them in all; each of two rankings it would do no
    worse than gives a count, and this is the smaller: every op as early as its inputs
    allow (each leaf just before its first reader), or every one as late as its readers
    allow (a term read at the end of a long sum sits next to its add, not at the start)."""
    readers: dict[int, list[int]] = {}  # input -> the Values whose ops read it (drawn ones)
    for i in sorted(values):
        for j in graph.inputs(i):
            if j in values:
                readers.setdefault(j, []).append(i)
    early: dict[int, int] = {}  # a Value's rank from the first; its op's is one less
    for i in sorted(values):  # topological: inputs first
        if graph.nodes[i]._prev:
            early[i] = 2 + max((early.get(j, 0) for j in graph.inputs(i) if j in values), default=0)
    for j, read_by in readers.items():
        if not graph.nodes[j]._prev:  # a leaf: just before its first reader's op
            early[j] = min(early[i] for i in read_by) - 2
    late: dict[int, int] = {}  # a Value's rank counted back from the root; its op's is one more
    for i in sorted(values, reverse=True):  # readers first
        late[i] = max((late[k] + 2 for k in readers.get(i, ())), default=0)
    scale = 2 if labelled else 1
    ops = sum(1 for i in values if graph.nodes[i]._prev)  # op -> Value: one rank
    edges = [(j, i) for j, read_by in readers.items() for i in read_by]
    spans_early = [early[i] - 1 - early[j] for j, i in edges]
    spans_late = [late[j] - (late[i] + 1) for j, i in edges]
    return ops * (scale - 1) + min(
        sum(scale * span - 1 for span in spans) for spans in (spans_early, spans_late)
    )


def _within_depth(graph: Graph, max_depth: int | None) -> set[int]:
    """Nodes at most max_depth operations upstream of the root (all when None)."""
    if max_depth is None:
        return set(range(len(graph.nodes)))
    if max_depth < 0:
        raise ValueError(f"draw_dot: max_depth must be >= 0, got {max_depth!r}")
    depth = {len(graph.nodes) - 1: 0}
    for i in reversed(range(len(graph.nodes))):  # consumers come before inputs here
        if i in depth and depth[i] < max_depth:
            for j in graph.inputs(i):
                depth[j] = min(depth.get(j, max_depth), depth[i] + 1)
    return set(depth)


def _value_attrs(graph: Graph, i: int, grad, is_current: bool, numbered: bool) -> dict:
    fill, border, style, width, _ = STYLES[graph.kinds[i]]
    if is_current:
        border, width = CURRENT, 3
    node = graph.nodes[i]
    cells = f"<TD {_CELL}>data {fmt(node.data)}</TD><TD {_CELL}>grad {grad_text(grad)}</TD>"
    if graph.kinds[i] == "const":  # its gradient is never used; a nan there only confuses
        cells = f"<TD>{fmt(node.data)}</TD>"
    if node.label:
        cells = f"<TD><B>{html_text(node.label)}</B></TD>" + cells
    elif graph.param_names.get(node):  # an unlabelled parameter is known by its model name
        cells = f"<TD><I>{html_text(graph.param_names[node])}</I></TD>" + cells
    if numbered:
        cells = f'<TD><FONT COLOR="#6b7280">#{i}</FONT></TD>' + cells
    table = (
        f'<TABLE BORDER="{width}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="4" '
        f'COLUMNS="*" STYLE="{style}" BGCOLOR="{fill}" COLOR="{border}"><TR>{cells}</TR></TABLE>'
    )
    attrs = {"label": f"<{table}>", "shape": "plain", "id": f"v{i}", "class": graph.kinds[i]}
    if is_current:
        attrs["class"] += " current"
    return attrs


def _plain_text(text: str):
    """text as a quoted DOT string, as it reads: its backslashes doubled (a last one would
    escape the closing quote, \\N would be the node's name), and never an HTML string (a
    text in <...> would be)."""
    from graphviz import nohtml

    return nohtml(text.replace("\\", "\\\\"))


def _op_attrs(graph: Graph, i: int, is_current: bool) -> dict:
    symbol = html_text(graph.nodes[i]._op)
    color = CURRENT if is_current else "#6b7280"
    return {
        "label": f"<{symbol}>",
        "shape": "ellipse",
        "style": "filled",
        "fillcolor": "#e5e7eb",
        "color": color,
        "penwidth": "2" if is_current else "1",
        "height": "0.3",
        "width": "0.3",
        "id": f"o{i}",
        "class": "op",
        "tooltip": _plain_text(printable(graph.nodes[i]._op.doc or graph.nodes[i]._op)),
    }


def _add_edges(dot, graph, grads, groups, shown, boxed, edge_grads, current, flow) -> None:
    """Input edges into op nodes (one per input, so a + a draws two), op -> output edges,
    and one edge per pair of collapsed boxes (labelled with how many it stands for)."""
    ids = box_ids(groups, boxed)
    box_edges: dict[tuple[str, str], int] = {}
    for i in sorted(shown):
        inputs = graph.inputs(i)
        if not inputs:
            continue
        if i in boxed:
            for j in inputs:
                if j in shown and not (j in boxed and groups[j] == groups[i]):
                    key = (ids.get(groups[j]) if j in boxed else f"v{j}", ids[groups[i]])
                    box_edges[key] = box_edges.get(key, 0) + 1
            continue
        is_current = i == current
        dot.edge(f"o{i}", f"v{i}", color=CURRENT if is_current else None)
        amounts = None
        if edge_grads and grads[i] is not None:
            amounts = local_grads(graph.nodes[i], grads[i])
        if any(j not in shown for j in inputs):
            dot.node(f"x{i}", label="⋯", shape="plaintext", id=f"x{i}")
            dot.edge(f"x{i}", f"o{i}", style="dashed")
        op = graph.nodes[i]._op
        for slot, j in enumerate(inputs):
            if j not in shown:
                continue
            if j in boxed:
                key = (ids[groups[j]], f"o{i}")
                box_edges[key] = box_edges.get(key, 0) + 1
                continue
            # where input order matters, the edge names its input (a / b: which is a)
            slot_name = op.inputs[slot] if op.arity == 2 and not op.commutative else None
            amount, state = flow.get((i, slot), (None, None))
            if amount is None and amounts is not None:
                amount, state = amounts[slot], "done"
            attrs = {}
            if state == "sent":
                attrs = {"color": CURRENT, "penwidth": "2"}
            label = _edge_label(slot_name, amount, state)
            if label:
                attrs["label"] = label
            dot.edge(f"v{j}", f"o{i}", **attrs)
    few = len(box_edges) <= 40  # past that, count labels become a forest of dummy nodes
    for (tail, head), count in box_edges.items():
        label = f"×{count}" if few and count > 1 else None
        dot.edge(tail, head, label=label, penwidth="1.5" if few else "0.6")


EDGE_TEXT = {"sent": CURRENT, "done": "#374151", "pending": "#ffffff00"}  # pending: unseen


def _edge_label(slot_name: str | None, amount: float | None, state: str | None) -> str | None:
    """An input edge's label: the input's name in grey (for a / b), and the gradient it
    carries back, coloured by state (see build)."""
    parts = []
    if slot_name is not None:
        parts.append(f'<FONT COLOR="#6b7280">{html_text(slot_name)}</FONT>')
    if amount is not None:
        bold = state == "sent"
        text = f"<B>{fmt(amount)}</B>" if bold else fmt(amount)
        parts.append(f'<FONT COLOR="{EDGE_TEXT[state]}">{text}</FONT>')
    return f"<{' '.join(parts)}>" if parts else None


def _add_legend(dot, kinds: set[str]) -> None:
    with dot.subgraph(name="cluster_legend") as legend:
        legend.attr(label="<<B>legend</B>>", style="rounded", color="#9ca3af", fontsize="11")
        previous = None
        for kind in (k for k in STYLES if k in kinds):
            fill, border, style, width, text = STYLES[kind]
            table = (
                f'<TABLE BORDER="{width}" CELLBORDER="0" CELLPADDING="4" STYLE="{style}" '
                f'BGCOLOR="{fill}" COLOR="{border}"><TR><TD>{html.escape(text)}</TD></TR></TABLE>'
            )
            legend.node(f"legend_{kind}", label=f"<{table}>", shape="plain")
            if previous:
                legend.edge(previous, f"legend_{kind}", style="invis")
            previous = f"legend_{kind}"
        legend.node(
            "legend_op",
            label="op",
            shape="ellipse",
            style="filled",
            fillcolor="#e5e7eb",
            height="0.3",
            width="0.3",
            color="#6b7280",
        )
        if previous:
            legend.edge(previous, "legend_op", style="invis")

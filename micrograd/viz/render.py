"""Running Graphviz: a Digraph whose rendering explains how to install ``dot`` when it is
missing and refuses drawings too big to lay out, and SVG output for one or many graphs. The
graphviz package is imported here only, and only when a drawing is made, so the engine never
needs it."""

from __future__ import annotations

from contextlib import contextmanager
from os import PathLike
from pathlib import Path

from ..files import check_suffix, write_atomically

DOT_INSTALL = (
    "drawing needs Graphviz's `dot` program to render, and it was not found on PATH. "
    "Install it with `apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` "
    "(macOS), `conda install graphviz`, or from https://graphviz.org/download/."
)
INSTALL_HINT = DOT_INSTALL + " The DOT source needs no install: use `draw_dot(...).source`."


# dot's layout time grows faster than the node count: on a tangled random expression,
# 1,050 nodes took 3 s, 1,550 took 2-6 s and 2,000 took 6-9 s (10,000: 180 s); chains,
# trees and MLPs of 1,500 take about a second, with its network simplex bounded (see
# dot.build; unbounded, many paths through one shared input took minutes at 1,000). Past
# this many, rendering refuses.
MAX_NODES = 1500

# An edge from rank r to rank r + k becomes k - 1 virtual nodes inside dot, which lays them
# out as it lays out nodes. A chain whose every link reads one input (a polynomial by
# Horner's rule) makes O(n^2) of them: 150 links (751 nodes, about 45,000 virtual ones)
# took 29 s, 240 links more than two minutes. Labelled edges (edge_grads, a stepper's
# frames) cost about twice as much each: 80 links, 25,760 of them, took 45 s. Past this
# many (half as many labelled), rendering refuses too.
MAX_VIRTUAL_NODES = 40_000


class DotNotFoundError(RuntimeError):
    """Graphviz's `dot` program is not installed (or not on PATH)."""


_DRAW_FEWER = (
    "Draw fewer: max_depth=k keeps only what is at most k ops from the root, and for a "
    'model group="neuron" (or "layer") with collapse=True draws each module as one box'
)


def check_size(nodes: int, max_nodes: int | None, virtual: int = 0, labelled: bool = False) -> None:
    """Refuse to render more than max_nodes nodes, or a layout of more than
    MAX_VIRTUAL_NODES virtual nodes, half as many with labelled edges (max_nodes None: no
    limit), saying how to draw fewer."""
    max_virtual = MAX_VIRTUAL_NODES // 2 if labelled else MAX_VIRTUAL_NODES
    if max_nodes is not None and nodes > max_nodes:
        raise ValueError(
            f"drawing: {nodes} nodes (Values, ops and module boxes), more than "
            f"max_nodes={max_nodes}, and Graphviz takes minutes to lay out that many. "
            f"{_DRAW_FEWER}; or raise max_nodes (None: no limit). The DOT text needs no "
            "rendering: .source"
        )
    if max_nodes is not None and virtual > max_virtual:
        raise ValueError(
            f"drawing: {nodes} nodes, but their edges reach across about {virtual:,} ranks "
            f"of the layout in all (an input read all along a long chain: each edge "
            f"crosses every rank between its two ends), more than {max_virtual:,}, "
            f"and Graphviz takes minutes to lay out that many crossings. {_DRAW_FEWER}; or "
            "pass max_nodes=None to lay it out however long it takes. The DOT text needs no "
            "rendering: .source"
        )


@contextmanager
def explain_missing_dot():
    """Turn graphviz's ExecutableNotFound into DotNotFoundError saying how to install dot."""
    import graphviz

    try:
        yield
    except graphviz.ExecutableNotFound as error:
        raise DotNotFoundError(INSTALL_HINT) from error


_drawing_class = None


def digraph(
    drawn_nodes: int = 0,
    max_nodes: int | None = None,
    virtual_nodes: int = 0,
    labelled: bool = False,
):
    """A new, empty graphviz.Digraph whose pipe/render (and so Jupyter's inline SVG) refuse
    what check_size refuses and raise DotNotFoundError when `dot` is missing."""
    global _drawing_class
    if _drawing_class is None:
        import graphviz

        class Drawing(graphviz.Digraph):
            """A graphviz.Digraph that refuses to render past its max_nodes, and says how to
            install Graphviz when `dot` is missing."""

            drawn_nodes = 0
            max_nodes: int | None = None
            virtual_nodes = 0  # what dot will add for edges longer than one rank
            labelled = False  # edges with labels: each virtual node costs dot twice as much

            def pipe(self, *args, **kwargs):
                check_size(self.drawn_nodes, self.max_nodes, self.virtual_nodes, self.labelled)
                with explain_missing_dot():
                    return super().pipe(*args, **kwargs)

            def render(self, *args, **kwargs):
                check_size(self.drawn_nodes, self.max_nodes, self.virtual_nodes, self.labelled)
                with explain_missing_dot():
                    return super().render(*args, **kwargs)

            def copy(self):
                copied = super().copy()
                copied.drawn_nodes, copied.max_nodes = self.drawn_nodes, self.max_nodes
                copied.virtual_nodes, copied.labelled = self.virtual_nodes, self.labelled
                return copied

        _drawing_class = Drawing
    drawing = _drawing_class(name="micrograd", format="svg")
    drawing.drawn_nodes, drawing.max_nodes = drawn_nodes, max_nodes
    drawing.virtual_nodes, drawing.labelled = virtual_nodes, labelled
    return drawing


def svg_text(dot) -> str:
    """dot rendered to SVG by the `dot` program."""
    return dot.pipe(format="svg", encoding="utf-8")


def svg_texts(dots: list) -> list[str]:
    """Many graphs rendered to SVG with one run of `dot` (it lays out each graph in turn)."""
    import graphviz

    if not dots:
        return []
    source = "".join(dot.source for dot in dots)
    with explain_missing_dot():
        output = graphviz.pipe("dot", "svg", source.encode("utf-8"), quiet=True)
    documents = output.decode("utf-8").split("<?xml")[1:]
    if len(documents) != len(dots):
        raise RuntimeError(f"dot returned {len(documents)} SVGs for {len(dots)} graphs")
    return ["<?xml" + document for document in documents]


def save_svg(
    root,
    path: str | PathLike,
    *,
    params: object = None,
    max_nodes: int | None = MAX_NODES,
    **draw_options,
) -> Path:
    """Write draw_dot(root, params=params, **draw_options) to path as an SVG file; returns
    the path. A drawing of more than max_nodes nodes (counted after max_depth and collapse)
    is refused, ValueError, before any DOT is written: Graphviz would take minutes."""
    from .dot import build, check_options
    from .graph import index_graph

    check_options("save_svg", draw_options)
    check_suffix(path, "save_svg", "SVG (draw_dot(...).render(format='png') makes a PNG)",
                 (".svg",))  # fmt: skip
    graph = index_graph(root, params)
    grads = [node.grad for node in graph.nodes]
    # draw_dot's build, told to refuse before it writes DOT: 50,000 nodes of DOT take seconds
    dot = build(graph, grads, max_nodes=max_nodes, refuse=True, **draw_options)
    path = Path(path)
    write_atomically(str(path), svg_text(dot), "save_svg")  # a failed save keeps the old file
    return path

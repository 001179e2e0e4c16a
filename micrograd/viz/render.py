"""Running Graphviz: a Digraph whose rendering explains how to install ``dot`` when it is
missing, and SVG output for one or many graphs. The graphviz package is imported here only,
and only when a drawing is made, so the engine never needs it."""

from __future__ import annotations

from contextlib import contextmanager
from os import PathLike
from pathlib import Path

INSTALL_HINT = (
    "drawing needs Graphviz's `dot` program to render, and it was not found on PATH. "
    "Install it with `apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` "
    "(macOS), `conda install graphviz`, or from https://graphviz.org/download/. "
    "The DOT source needs no install: use `draw_dot(...).source`."
)


class DotNotFoundError(RuntimeError):
    """Graphviz's `dot` program is not installed (or not on PATH)."""


@contextmanager
def explain_missing_dot():
    """Turn graphviz's ExecutableNotFound into DotNotFoundError saying how to install dot."""
    import graphviz

    try:
        yield
    except graphviz.ExecutableNotFound as error:
        raise DotNotFoundError(INSTALL_HINT) from error


_drawing_class = None


def digraph():
    """A new, empty graphviz.Digraph whose pipe/render (and so Jupyter's inline SVG)
    raise DotNotFoundError when `dot` is missing."""
    global _drawing_class
    if _drawing_class is None:
        import graphviz

        class Drawing(graphviz.Digraph):
            """A graphviz.Digraph that says how to install Graphviz when `dot` is missing."""

            def pipe(self, *args, **kwargs):
                with explain_missing_dot():
                    return super().pipe(*args, **kwargs)

            def render(self, *args, **kwargs):
                with explain_missing_dot():
                    return super().render(*args, **kwargs)

        _drawing_class = Drawing
    return _drawing_class(name="micrograd", format="svg")


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


def save_svg(root, path: str | PathLike, **draw_options) -> Path:
    """Write draw_dot(root, **draw_options) to path as an SVG file; returns the path."""
    from .dot import draw_dot

    path = Path(path)
    path.write_text(svg_text(draw_dot(root, **draw_options)), encoding="utf-8")
    return path

"""Draw the pictures the README shows, into docs/. Run: .venv/bin/python docs/make_figures.py

Needs Graphviz's `dot` program (Debian: apt-get install graphviz).
"""

from __future__ import annotations

import sys
from pathlib import Path

from micrograd import Value
from micrograd.draw import save_svg

DOCS = Path(__file__).resolve().parent


def neuron_graph() -> Value:
    """The README's first example, y = tanh(w*x + b), after backward()."""
    x = Value(0.5, label="x")
    w = Value(-2.0, label="w")
    b = Value(1.5, label="b")
    wx = w * x
    wx.label = "w*x"
    n = wx + b
    n.label = "n"
    y = n.tanh()
    y.label = "y"
    y.backward()
    return y


def main(folder: Path = DOCS) -> list[Path]:
    """Write every figure into folder; returns their paths."""
    return [save_svg(neuron_graph(), folder / "neuron.svg", edge_grads=True)]


if __name__ == "__main__":
    for path in main(Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS):
        print(path)

"""Build the learner notebooks from the sources in docs/notebooks_src/, run them, save them.

Each source is a Python file whose cells are separated by lines starting ``# %%``; a cell whose
first line is ``# %% [markdown]`` holds markdown in ``#``-prefixed comment lines (the "percent"
format that Jupytext and VS Code also read). Lines before the first cell (such as the ruff
directive that lets a cell end in a bare expression) are left out. Usage::

    .venv/bin/python docs/build_notebooks.py            # every notebook
    .venv/bin/python docs/build_notebooks.py 01 03      # the ones whose name starts so
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbclient
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "docs" / "notebooks_src"
NOTEBOOKS = ROOT / "notebooks"


def cells_of(source: str) -> list:
    """The notebook cells written in a percent-format source."""
    cells, kind, lines = [], None, []

    def flush() -> None:
        text = "\n".join(lines).strip("\n")
        if kind == "markdown":
            text = "\n".join(
                line[2:] if line.startswith("# ") else line.lstrip("#")
                for line in text.splitlines()
            )
            cells.append(new_markdown_cell(text))
        elif kind == "code" and text:
            cells.append(new_code_cell(text))

    for line in source.splitlines():
        if line.startswith("# %%"):
            flush()
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        else:
            lines.append(line)
    flush()
    return cells


def build(source_path: Path) -> Path:
    """Turn one source into a notebook, execute it in a fresh kernel and save it with outputs."""
    notebook = new_notebook(cells=cells_of(source_path.read_text()))
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    notebook.metadata["language_info"] = {"name": "python"}
    client = nbclient.NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()
    out = NOTEBOOKS / (source_path.stem + ".ipynb")
    nbformat.write(notebook, out)
    return out


def main(prefixes: list[str]) -> None:
    for source_path in sorted(SOURCES.glob("*.py")):
        if prefixes and not any(source_path.stem.startswith(p) for p in prefixes):
            continue
        start = time.perf_counter()
        out = build(source_path)
        print(f"{out.relative_to(ROOT)}  ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main(sys.argv[1:])

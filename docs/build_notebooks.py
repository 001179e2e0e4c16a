"""Build the learner notebooks from the sources in docs/notebooks_src/, run them, save them.

Each source is a Python file whose cells are separated by lines starting ``# %%``; a cell whose
first line is ``# %% [markdown]`` holds markdown in ``#``-prefixed comment lines (the "percent"
format that Jupytext and VS Code also read). Lines before the first cell (such as the ruff
directive that lets a cell end in a bare expression) are left out. Usage::

    .venv/bin/python docs/build_notebooks.py            # every notebook
    .venv/bin/python docs/build_notebooks.py 01 03      # the ones whose name starts so
"""

from __future__ import annotations

import re
import sys
import tempfile
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


def _as_displayed(text: str) -> str:
    """Stream text as a terminal shows it: a carriage return rewrites its line (progress bars)."""
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))


def tidy_streams(notebook) -> None:
    """Merge each cell's consecutive stream outputs and keep only what is finally displayed, so
    a progress bar is stored as its last state instead of one output per update."""
    for cell in notebook.cells:
        merged = []
        for output in cell.get("outputs", []):
            previous = merged[-1] if merged else None
            if (
                output.output_type == "stream"
                and previous is not None
                and previous.output_type == "stream"
                and previous.name == output.name
            ):
                previous.text += output.text
            else:
                merged.append(output)
        for output in merged:
            if output.output_type == "stream":
                output.text = _as_displayed(output.text)
        if cell.cell_type == "code":
            cell.outputs = [o for o in merged if o.output_type != "stream" or o.text.strip()]
            for output in cell.outputs:  # a default repr's address changes on every run
                plain = output.get("data", {}).get("text/plain")
                if plain:
                    output.data["text/plain"] = re.sub(r" at 0x[0-9a-f]+>", ">", plain)


def build(source_path: Path) -> Path:
    """Turn one source into a notebook, execute it in a fresh kernel and save it with outputs."""
    notebook = new_notebook(cells=cells_of(source_path.read_text()))
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    notebook.metadata["language_info"] = {"name": "python"}
    with tempfile.TemporaryDirectory() as scratch:  # files a notebook saves land here
        client = nbclient.NotebookClient(
            notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": scratch}}
        )
        client.execute()
    tidy_streams(notebook)
    for number, cell in enumerate(notebook.cells):  # stable ids and no timestamps: small diffs
        cell.id = f"{source_path.stem[:2]}-{number:02d}"
        cell.metadata.pop("execution", None)
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

"""Every notebook in notebooks/ runs top to bottom in a real Jupyter kernel without an error,
and the text it prints today is the text committed with it (numbers to 1e-10, relative: the
last digits of a float depend on the CPU and on the kernels PyTorch and numpy pick)."""

from __future__ import annotations

import re
from pathlib import Path

import nbclient
import nbformat
import pytest
from printed import same_printout

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
TIMING = re.compile(
    r"\d+(\.\d+)?\s*(it/s|s/it|epoch/s|s/epoch|ms|µs|s)\b|\d\d:\d\d"
    r"|\(?\s*\d+(\.\d+)?x\b\)?"  # speed-ups such as "(   27x)" or "99x faster"
)
CELL_TIMEOUT = 180  # seconds per cell: generous for a loaded CI machine
EXPECTED = [
    "01_value_and_backprop",
    "02_drawing_graphs",
    "03_training_an_mlp",
    "04_activations_losses_optimizers",
    "05_xor_and_universal_approximation",
    "06_gradients_vs_pytorch",
    "07_from_scalars_to_batches",
    "08_convolutions_on_digits",
]

# Notebooks whose printed text must match a fresh run (docs/build_notebooks.py rebuilds them).
TEXT_CHECKED = EXPECTED


def test_every_notebook_of_the_course_is_there():
    assert [p.stem for p in NOTEBOOKS] == EXPECTED


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, tmp_path: Path):
    notebook = nbformat.read(path, as_version=4)
    # Run in a scratch folder so files a notebook saves never land in the checkout.
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    committed = _printed(nbformat.read(path, as_version=4))
    client.execute()  # raises CellExecutionError naming the cell on any error
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors
    if path.stem in TEXT_CHECKED:
        for (index, now), (_, then) in zip(_printed(notebook), committed):
            assert same_printout(now, then), (
                f"{path.name}, cell {index}: output changed; rebuild the notebook\n"
                f"now:\n{now}\ncommitted:\n{then}"
            )


def _printed(notebook) -> list[tuple[int, str]]:
    """(cell index, the text the cell printed) with times and speeds blanked: the outputs that
    must not change unless the code does."""
    printed = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        text = "".join(o.text for o in cell.outputs if o.output_type == "stream")
        lines = [line.rsplit("\r", 1)[-1] for line in text.split("\n")]  # as a terminal shows it
        # times vary from run to run, and so does the padding that aligns them
        text = "\n".join(
            " ".join(TIMING.sub("<time>", line).split()) for line in lines if line.strip()
        )
        printed.append((index, text))
    return printed


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_with_outputs(path: Path):
    notebook = nbformat.read(path, as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code_cells, f"{path.name} has no code"
    unrun = [i for i, cell in enumerate(code_cells) if cell.execution_count is None]
    assert not unrun, f"{path.name}: code cells {unrun} were never executed; re-run and save it"


def test_printouts_compare_numbers_to_a_tolerance_and_the_rest_as_text():
    assert same_printout("loss 0.30000000000000004, acc 100%", "loss 0.3, acc 100%")
    assert same_printout("d/dw -0.531618954677999", "d/dw -0.531618954678000")
    assert not same_printout("diff 1.3e-16", "diff 7.6e-17")  # rounding noise is not a result
    assert not same_printout("loss 0.3001", "loss 0.3")
    assert not same_printout("accuracy 99%", "accuracy 98%")
    assert not same_printout("agree: True", "agree: False")
    assert not same_printout("1 2", "1 2 3") and same_printout("nan, inf", "nan, inf")

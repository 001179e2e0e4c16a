"""Every notebook in notebooks/ runs top to bottom in a real Jupyter kernel without an error."""

from __future__ import annotations

from pathlib import Path

import nbclient
import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT = 180  # seconds per cell: generous for a loaded CI machine
EXPECTED = [
    "01_value_and_backprop",
    "02_drawing_graphs",
    "03_training_an_mlp",
    "04_activations_losses_optimizers",
    "05_xor_and_universal_approximation",
    "06_gradients_vs_pytorch",
    "07_from_scalars_to_batches",
]


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
    client.execute()  # raises CellExecutionError naming the cell on any error
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_with_outputs(path: Path):
    notebook = nbformat.read(path, as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code_cells, f"{path.name} has no code"
    unrun = [i for i, cell in enumerate(code_cells) if cell.execution_count is None]
    assert not unrun, f"{path.name}: code cells {unrun} were never executed; re-run and save it"

"""How micrograd installs: the network library as micrograd.nn (never a top-level nn that a
learner's own nn.py could shadow), arrows that point one way, and a wheel that works on its
own in a fresh virtual environment."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_a_learners_own_nn_py_does_not_break_the_import(tmp_path):
    """nn.py is a common name for a learner's file; python puts the working folder first on
    sys.path, so a top-level package nn would be shadowed by it."""
    (tmp_path / "nn.py").write_text("raise ImportError('this is the learner\\'s own nn.py')\n")
    result = _python(
        "from micrograd.nn import MLP\n"
        "from micrograd import nn\n"
        "print(MLP(2, [3, 1]).num_parameters(), nn.MLP is MLP, nn.__name__)\n",
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["13", "True", "micrograd.nn"]


def test_the_engine_never_imports_the_network_library():
    """Arrows point one way: micrograd.nn imports the engine, never the reverse."""
    for path in (ROOT / "micrograd").rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"^\s*(from|import)\s+(\.nn\b|micrograd\.nn\b|nn\b)", text, re.M), path
    result = _python("import sys, micrograd; print('micrograd.nn' in sys.modules)", ROOT)
    assert result.stdout.strip() == "False"


def _code_of_notebook(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    return "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")


def test_no_top_level_nn_import_is_left_anywhere():
    texts = {path: path.read_text() for path in (ROOT / "tests").glob("*.py")}
    texts |= {path: path.read_text() for path in (ROOT / "docs").rglob("*.py")}
    texts |= {path: path.read_text() for path in (ROOT / "benchmarks").glob("*.py")}
    texts |= {path: _code_of_notebook(path) for path in (ROOT / "notebooks").glob("*.ipynb")}
    texts[ROOT / "README.md"] = (ROOT / "README.md").read_text()
    assert len(texts) > 30
    top_level = re.compile(r"^\s*(import nn\b|from nn(\.\w+)* import)", re.M)
    offenders = [str(path) for path, text in texts.items() if top_level.search(text)]
    assert not offenders


@pytest.mark.slow
def test_the_wheel_runs_the_demo_in_a_fresh_virtual_environment(tmp_path):
    """python -m build makes a wheel with micrograd, micrograd.viz, micrograd.nn and the
    py.typed marker; installed with its demo extra into a new venv (whose packages come from
    pip's cache, filled when make test set up .venv), it runs `micrograd demo`."""
    dist = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = dist.glob("micrograd-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "micrograd/py.typed" in names
    assert {"micrograd/engine.py", "micrograd/viz/dot.py", "micrograd/nn/module.py"} <= set(names)
    assert not any(name.startswith("nn/") for name in names)  # never a top-level nn

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    installed = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", f"{wheel}[demo]"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    out = tmp_path / "out"
    demo = subprocess.run(
        [str(venv / "bin" / "micrograd"), "demo", "--epochs", "3", "--samples", "20"]
        + ["--no-progress", "--out", str(out)],
        cwd=tmp_path,  # not the checkout: nothing may come from the source tree
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "final loss" in demo.stdout and (out / "loss_curve.png").stat().st_size > 1000
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import micrograd.nn as nn; print(nn.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert Path(where.stdout.strip()).is_relative_to(venv)

"""karpathy/micrograd's own test file runs unchanged against this engine.

The file comes from the sdist of its PyPI release 0.1.0 (fetched with pip at run time; none of
its code is committed here) and runs in a subprocess where ``micrograd`` is this package.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks import karpathy_release

ROOT = Path(__file__).resolve().parent.parent


def test_karpathys_test_engine_passes_unchanged(tmp_path):
    source = karpathy_release.test_engine_source()
    assert "def test_sanity_check" in source and "def test_more_ops" in source
    (tmp_path / "test_engine.py").write_text(source)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_engine.py"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_it_imported_this_engine_not_the_release(tmp_path):
    probe = "import micrograd.engine as e; print(e.__file__)"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(result.stdout.strip()).resolve() == ROOT / "micrograd" / "engine.py"

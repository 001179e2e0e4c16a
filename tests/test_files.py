"""micrograd.files.replace_with: a figure saved as the whole new file or not at all, through
a symlink onto its target, and never over what is not a regular file."""

from __future__ import annotations

import os
import stat

import matplotlib
import pytest

from micrograd.files import replace_with

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _save_figure(into: str) -> None:
    figure, axes = plt.subplots()
    axes.plot([0, 1], [1, 0])
    figure.savefig(into)
    plt.close(figure)


def test_a_symlink_to_a_file_without_a_suffix_gets_the_picture(tmp_path):
    # the temporary took its suffix from the target ("latest": none), so savefig wrote
    # "<temporary>.png" beside it, and the empty temporary was renamed over the target
    target = tmp_path / "shared" / "latest"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "loss_curve.png"
    link.symlink_to(target)
    replace_with(str(link), _save_figure, "savefig")
    assert link.is_symlink()
    assert target.read_bytes()[:8] == PNG_SIGNATURE
    assert os.listdir(target.parent) == ["latest"]  # no temporary left beside it


def test_what_is_not_a_regular_file_is_never_replaced(tmp_path):
    # it was renamed over a FIFO (and, run as root through a symlink, over /dev/null)
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    link = tmp_path / "picture.png"
    link.symlink_to(fifo)
    for path in (fifo, link):
        with pytest.raises(ValueError, match="savefig: .* exists and is not a regular file"):
            replace_with(str(path), _save_figure, "savefig")
    assert fifo.is_fifo() and link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["picture.png", "pipe.png"]
    with pytest.raises(FileNotFoundError, match="savefig: no such folder"):
        replace_with(str(tmp_path / "missing" / "a.png"), _save_figure, "savefig")


def test_the_new_picture_keeps_the_old_files_mode(tmp_path):
    path = tmp_path / "picture.png"
    path.write_text("old")
    path.chmod(0o640)
    replace_with(str(path), _save_figure, "savefig")
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert stat.S_IMODE(path.stat().st_mode) == 0o640

"""The `micrograd demo` command end to end: it trains, reports, and writes readable files."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from nn.cli import main

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SMALL = ["--samples", "40", "--layers", "4", "--epochs", "3"]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("demo")
    result = subprocess.run(
        [sys.executable, "-m", "nn.cli", "demo", *SMALL, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return out, result.stdout


def test_demo_reports_loss_and_accuracy(demo_run):
    _, stdout = demo_run
    assert "loss" in stdout.lower()
    assert "accuracy" in stdout.lower()


def test_demo_writes_pngs(demo_run):
    out, stdout = demo_run
    for name in ("decision_boundary.png", "loss_curve.png"):
        path = out / name
        assert path.read_bytes()[:8] == PNG_SIGNATURE, name
        assert str(path) in stdout  # the demo tells the user where its files are


def test_demo_writes_a_parsable_svg_of_a_neuron(demo_run):
    out, stdout = demo_run
    path = out / "neuron.svg"
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    texts = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
    assert "tanh" in texts or "relu" in texts  # the neuron's activation is drawn
    assert str(path) in stdout


def test_demo_writes_the_backward_page(demo_run):
    out, stdout = demo_run
    path = out / "backward.html"
    html = path.read_text()
    assert html.lstrip().lower().startswith("<!doctype html")
    # relu(b + w1*x1 + w2*x2) is five operations, so backward takes five steps: one frame each
    assert html.count('class="frame"') == 5
    assert html.count("<svg") == 5
    assert str(path) in stdout


def test_three_classes_train_and_draw_compiled_or_eagerly(tmp_path, capsys):
    args = ["--dataset", "spirals", "--samples", "30", "--layers", "4", "--epochs", "2"]
    assert main(["demo", *args, "--no-progress", "--out", str(tmp_path / "compiled")]) == 0
    compiled = capsys.readouterr().out
    assert "with micrograd.compile" in compiled  # cross_entropy traces
    assert main(["demo", *args, "--eager", "--no-progress", "--out", str(tmp_path)]) == 0
    stdout = capsys.readouterr().out
    assert "with the eager scalar engine" in stdout
    final = [line for line in compiled.splitlines() if line.startswith("final loss")]
    assert final == [line for line in stdout.splitlines() if line.startswith("final loss")]
    assert "2 -> 4 -> 3" in stdout  # three classes: three output neurons
    assert (tmp_path / "decision_boundary.png").read_bytes()[:8] == PNG_SIGNATURE
    ET.parse(tmp_path / "neuron.svg")


def test_without_graphviz_the_demo_still_finishes_and_says_how_to_install_it(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path / "empty")}  # no `dot` to be found
    result = subprocess.run(
        [sys.executable, "-m", "nn.cli", "demo", *SMALL, "--no-progress", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "graphviz" in result.stderr.lower()
    assert (tmp_path / "decision_boundary.png").read_bytes()[:8] == PNG_SIGNATURE
    assert "digraph" in (tmp_path / "neuron.dot").read_text()


def test_help_explains_the_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--dataset", "--layers", "--activation", "--optimizer", "--lr", "--epochs"):
        assert option in text
    for option in ("--seed", "--out"):
        assert option in text


@pytest.mark.parametrize(
    "bad, expected",
    [
        (["--dataset", "mnist"], "--dataset"),
        (["--layers", "16,x"], "--layers"),
        (["--layers", "0"], "--layers"),
        (["--lr", "-1"], "--lr"),
        (["--epochs", "0"], "--epochs"),
        (["--activation", "swish"], "--activation"),
        (["--optimizer", "lbfgs"], "--optimizer"),
        (["--samples", "2"], "--samples"),
        (["--lr", "inf"], "--lr"),
    ],
)
def test_bad_values_exit_2_with_a_message(bad, expected, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", *bad])
    assert exit_info.value.code == 2
    message = capsys.readouterr().err
    assert expected in message and "error" in message

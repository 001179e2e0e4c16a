"""The `micrograd demo` command end to end: it trains, reports, and writes readable files."""

from __future__ import annotations

import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import micrograd.nn.demo as demo_module
import micrograd.nn.digits_demo as digits_demo_module
import numpy as np
import pytest
import torch
from micrograd.nn.cli import main
from micrograd.nn.demo import DIVERGENCE_FACTOR, OUTPUT_NAMES, diverged
from micrograd.nn.demo_plots import decision_surface

from micrograd import nn

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG = "{http://www.w3.org/2000/svg}"
SMALL = ["--samples", "40", "--layers", "4", "--epochs", "3"]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("demo")
    result = subprocess.run(
        [sys.executable, "-m", "micrograd.nn.cli", "demo", *SMALL, "--out", str(out)],
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


LECTURE = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432}


def lecture_grads() -> dict[str, float]:
    """d o / d node for karpathy's lecture neuron o = tanh(x1*w1 + x2*w2 + b), by PyTorch."""
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in LECTURE.items()}
    n = t["x1"] * t["w1"] + t["x2"] * t["w2"] + t["b"]
    n.retain_grad()
    o = torch.tanh(n)
    o.backward()
    return {k: v.grad.item() for k, v in t.items()} | {"n": n.grad.item(), "o": 1.0}


def svg_nodes(path: Path) -> dict[str, list[str]]:
    """label -> the texts of its box, for every Value drawn in the SVG."""
    root = ET.parse(path).getroot()
    nodes = {}
    for group in root.iter(f"{SVG}g"):
        if group.get("class", "").startswith("node"):
            texts = [t.text for t in group.iter(f"{SVG}text") if t.text]
            if any(t.startswith("grad ") for t in texts):
                nodes[texts[0]] = texts
    return nodes


def test_demo_draws_the_lecture_neuron_with_torchs_gradients_and_says_what_they_mean(demo_run):
    out, stdout = demo_run
    path = out / "neuron.svg"
    nodes = svg_nodes(path)
    expected = lecture_grads()
    assert set(expected) <= set(nodes)
    for label, grad in expected.items():
        shown = next(t for t in nodes[label] if t.startswith("grad "))
        assert float(shown[len("grad ") :]) == pytest.approx(grad, rel=1e-3, abs=1e-12), label
    assert len({round(g, 6) for g in expected.values()}) >= 4  # not all 1: the chain rule shows
    texts = " ".join(t.text or "" for t in ET.parse(path).getroot().iter(f"{SVG}text"))
    assert "tanh" in texts and "each grad is d o / d (that node)" in texts
    line = next(line for line in stdout.splitlines() if str(path) in line)
    assert "d o / d (that node)" in line  # the demo's own words for what it wrote


def stepper_frames(text: str) -> list[dict]:
    data = re.search(r'<script type="application/json" class="mg-data">(.*?)</script>', text, re.S)
    return json.loads(data.group(1))["frames"]


def test_demo_writes_the_backward_page(demo_run):
    out, stdout = demo_run
    path = out / "backward.html"
    text = path.read_text()
    assert text.lstrip().lower().startswith("<!doctype html")
    frames = stepper_frames(text)
    # tanh(x1*w1 + x2*w2 + b) is five operations, so backward takes five steps: one frame each
    assert len(frames) == 5 and all(frame["view"].startswith("<svg") for frame in frames)
    do_dn = lecture_grads()["n"]
    assert frames[0]["caption"].startswith(
        f"Step 1: o = tanh(n), and o.grad = 1.000. The chain rule: do/dn = 1 - o ** 2 = "
        f"{do_dn:.4f}, so n.grad += 1.000 × {do_dn:.4f} = {do_dn:.4f}."
    )
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
        [
            sys.executable,
            "-m",
            "micrograd.nn.cli",
            "demo",
            *SMALL,
            "--no-progress",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "graphviz" in result.stderr.lower()
    # what to do at the command line, not a Python call (it said "use draw_dot(...).source")
    dot = tmp_path / "neuron.dot"
    assert f"`dot -Tsvg {dot} -o {dot.with_suffix('.svg')}` draws it" in result.stderr
    assert "draw_dot(" not in result.stderr
    assert (tmp_path / "decision_boundary.png").read_bytes()[:8] == PNG_SIGNATURE
    assert "digraph" in (tmp_path / "neuron.dot").read_text()
    frames = stepper_frames((tmp_path / "backward.html").read_text())
    assert len(frames) == 5 and all(frame["view"].startswith("<table") for frame in frames)
    assert "Graphviz" in (tmp_path / "backward.html").read_text()  # the page says what is missing
    assert "a table of its nodes" in result.stdout and "backward.html" in result.stdout


def _demo_command(out: Path) -> list[str]:
    return [sys.executable, "-m", "micrograd.nn.cli", "demo", *SMALL, "--no-progress",
            "--out", str(out)]  # fmt: skip


def test_a_reader_that_goes_away_stops_the_demo_quietly_as_sigpipe_does(tmp_path):
    # `micrograd demo | head -1`: a BrokenPipeError's traceback before
    demo = subprocess.Popen(
        _demo_command(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert demo.stdout.readline().startswith("training MLP")
    demo.stdout.close()
    assert demo.wait(timeout=300) == 128 + 13  # the shell's code for a death by SIGPIPE
    assert demo.stderr.read() == ""


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_output_that_cannot_be_written_is_one_line_not_a_traceback(tmp_path):
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            _demo_command(tmp_path), stdout=full, stderr=subprocess.PIPE, text=True, timeout=300
        )
    assert result.returncode == 1
    assert result.stderr == "micrograd demo: [Errno 28] No space left on device\n"


@pytest.mark.parametrize("closed", ["stdout", "stderr"])
def test_a_closed_stdout_or_stderr_still_trains_and_writes_all(closed, tmp_path, monkeypatch):
    # Python sets a closed stream (`>&-`, `2>&-`) to None: stdout.flush() was an
    # AttributeError after the files were written; the progress bar's tqdm one before any
    monkeypatch.setattr(sys, closed, None)
    argv = ["demo", *SMALL, "--out", str(tmp_path)]  # the progress bar on
    assert main(argv) == 0
    written = {path.name for path in tmp_path.iterdir()}
    assert written == set(OUTPUT_NAMES) - {"neuron.dot"}  # the .svg: Graphviz is here


def test_an_empty_output_folder_name_is_refused(tmp_path, capsys, monkeypatch):
    # Path("") is "": the files went into the working folder, without a word
    monkeypatch.chdir(tmp_path)
    message = _rejected([*SMALL, "--out", ""], capsys)
    assert "argument --out: expected a folder name, got ''" in message
    assert list(tmp_path.iterdir()) == []


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
        (["--samples", "1000001"], "at most 1000000 points"),  # 10**8 was a MemoryError
        (["--lr", "inf"], "--lr"),
    ],
)
def test_bad_values_exit_2_with_a_message(bad, expected, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", *bad])
    assert exit_info.value.code == 2
    message = capsys.readouterr().err
    assert expected in message and "error" in message


def _rejected(argv: list[str], capsys) -> str:
    """Run `micrograd demo ARGV`, check it stops with a usage error before training; its stderr."""
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", *argv])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing about training: it never started
    assert "micrograd demo: error: argument --" in captured.err  # the demo subparser's own error
    assert "usage: micrograd [-h] COMMAND" not in captured.err
    return captured.err


@pytest.mark.parametrize("seed", ["-1", "99999999999", str(2**32)])
def test_a_seed_numpy_cannot_take_is_a_usage_error(seed, tmp_path, capsys):
    message = _rejected(["--seed", seed, *SMALL, "--out", str(tmp_path / "out")], capsys)
    assert "--seed" in message and "4294967295" in message
    assert not (tmp_path / "out").exists()


def test_the_whole_seed_range_trains(tmp_path, capsys):
    for seed in ("0", str(2**32 - 1)):
        assert main(["demo", "--seed", seed, *SMALL, "--no-progress", "--out", str(tmp_path)]) == 0
    assert "final loss" in capsys.readouterr().out


def test_out_naming_a_file_is_the_demo_subcommands_error(tmp_path, capsys):
    existing = tmp_path / "notes.txt"
    existing.write_text("keep me")
    message = _rejected([*SMALL, "--out", str(existing)], capsys)
    assert "--out" in message and "not a folder" in message
    assert existing.read_text() == "keep me"


def test_out_under_a_file_is_refused_before_training(tmp_path, capsys):
    existing = tmp_path / "notes.txt"
    existing.write_text("keep me")
    message = _rejected([*SMALL, "--out", str(existing / "pictures" / "run1")], capsys)
    assert "--out" in message and str(existing) in message and "file" in message
    assert existing.read_text() == "keep me"


def test_out_that_cannot_be_created_is_refused_before_training(tmp_path, capsys, monkeypatch):
    # as root every permission check passes, so the refusal is simulated where it would happen
    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    message = _rejected([*SMALL, "--out", str(tmp_path / "out")], capsys)
    assert "--out" in message and "Permission denied" in message
    assert list(tmp_path.iterdir()) == []


def test_out_that_cannot_be_written_is_refused_before_training(tmp_path, capsys, monkeypatch):
    # the command tries a temporary file in the folder; as root that always works, so refuse it
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path))

    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)
    message = _rejected([*SMALL, "--out", str(tmp_path)], capsys)
    assert "--out" in message and "Permission denied" in message
    assert list(tmp_path.iterdir()) == []


def test_an_output_name_taken_by_a_folder_is_refused_before_training(tmp_path, capsys):
    (tmp_path / "loss_curve.png").mkdir()
    message = _rejected([*SMALL, "--out", str(tmp_path)], capsys)
    assert "--out" in message and "loss_curve.png" in message and "folder" in message
    assert [path.name for path in tmp_path.iterdir()] == ["loss_curve.png"]


@pytest.mark.parametrize("kind", ["fifo", "link to a fifo"])
def test_an_output_name_taken_by_no_regular_file_is_refused_before_training(kind, tmp_path, capsys):
    # it failed after training, with the two PNGs already replaced: a traceback
    fifo = tmp_path / ("backward.html" if kind == "fifo" else "elsewhere")
    os.mkfifo(fifo)
    if kind != "fifo":
        (tmp_path / "backward.html").symlink_to(fifo)
    message = _rejected([*SMALL, "--out", str(tmp_path)], capsys)
    assert "backward.html' is not a regular file" in message
    assert fifo.is_fifo()
    assert {path.name for path in tmp_path.iterdir()} <= {"backward.html", "elsewhere"}


def test_a_symlinked_output_into_a_folder_it_cannot_write_is_refused_before_training(
    tmp_path, capsys, monkeypatch
):
    # os.replace there fails (EACCES) after training; as root nothing fails: ask a stand-in
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "curve.png").write_text("old")
    out = tmp_path / "out"
    out.mkdir()
    (out / "loss_curve.png").symlink_to(elsewhere / "curve.png")
    real_temporary = tempfile.TemporaryFile

    def temporary(*args, dir=None, **kwargs):
        if os.path.realpath(dir) == os.path.realpath(elsewhere):
            raise PermissionError(13, "Permission denied")
        return real_temporary(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "TemporaryFile", temporary)
    message = _rejected([*SMALL, "--out", str(out)], capsys)
    assert "cannot write into" in message and "elsewhere" in message
    assert (elsewhere / "curve.png").read_text() == "old"


def test_a_read_only_file_only_the_other_demo_writes_stops_nothing(tmp_path, monkeypatch):
    # the digits demo's curves.png, read-only, refused the toy demo, which never writes it
    (tmp_path / "curves.png").write_text("old")
    read_only = os.path.realpath(tmp_path / "curves.png")
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda path, mode: str(path) != read_only and real_access(path, mode)
    )
    monkeypatch.setattr(demo_module, "plot_boundary", lambda *args: None)
    monkeypatch.setattr(demo_module, "plot_history", lambda *args: None)
    monkeypatch.setattr(demo_module, "_write_drawings", lambda *args: [])
    assert main(["demo", *SMALL, "--no-progress", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "curves.png").read_text() == "old"


def test_a_read_only_output_file_is_refused_before_training(tmp_path, capsys, monkeypatch):
    # os.access is what the check asks, and as root it always says yes: ask a stand-in instead
    (tmp_path / "neuron.svg").write_text("<svg/>")
    read_only = str(tmp_path / "neuron.svg")
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda path, mode: str(path) != read_only and real_access(path, mode)
    )
    message = _rejected([*SMALL, "--out", str(tmp_path)], capsys)
    assert "--out" in message and "neuron.svg" in message
    assert (tmp_path / "neuron.svg").read_text() == "<svg/>"
    assert [path.name for path in tmp_path.iterdir()] == ["neuron.svg"]


# in three epochs the loss ends 3e8 times its start, then inf, then nan
@pytest.mark.parametrize("lr", ["1000", "1e100", "1e300"])
def test_a_diverged_run_says_so_and_names_the_learning_rate(lr, tmp_path, capsys):
    assert main(["demo", "--lr", lr, *SMALL, "--no-progress", "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "final loss" in captured.out  # it trained and reported; the warning comes after
    assert "diverged" in captured.err and "smaller learning rate" in captured.err
    assert "--lr" in captured.err
    assert (tmp_path / "loss_curve.png").read_bytes()[:8] == PNG_SIGNATURE  # it shows the blow-up


@pytest.mark.parametrize(
    "dataset, optimizer, activation",
    [  # every data set, optimizer and activation at least once, with the defaults otherwise;
        # the first two end nearest their start, the third rises highest on the way (4.7x)
        ("circles", "momentum", "sigmoid"),
        ("xor", "sgd", "sigmoid"),
        ("moons", "adagrad", "relu"),
        ("spirals", "adam", "tanh"),
        ("blobs", "rmsprop", "leaky_relu"),
        ("moons", "adamw", "tanh"),
    ],
)
def test_ordinary_runs_do_not_warn(dataset, optimizer, activation, tmp_path, capsys, monkeypatch):
    # the pictures take seconds each and cannot change the warning: skip them
    monkeypatch.setattr(demo_module, "plot_boundary", lambda *args: None)
    monkeypatch.setattr(demo_module, "plot_history", lambda *args: None)
    monkeypatch.setattr(demo_module, "_write_drawings", lambda *args: [])
    argv = ["--dataset", dataset, "--optimizer", optimizer, "--activation", activation]
    assert main(["demo", *argv, "--no-progress", "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "final loss" in captured.out
    assert "warning" not in captured.err and "diverged" not in captured.err


@pytest.mark.parametrize("epochs, noted", [("100", True), ("1000", False)])
def test_a_run_no_better_than_guessing_says_so(epochs, noted, tmp_path, capsys, monkeypatch):
    # sigmoids and momentum on circles: 50% after 100 epochs (the two classes are as
    # large: a constant answer scores as much), 100% after 1000
    monkeypatch.setattr(demo_module, "plot_boundary", lambda *args: None)
    monkeypatch.setattr(demo_module, "plot_history", lambda *args: None)
    monkeypatch.setattr(demo_module, "_write_drawings", lambda *args: [])
    argv = ["--dataset", "circles", "--optimizer", "momentum", "--activation", "sigmoid"]
    argv += ["--epochs", epochs, "--no-progress", "--out", str(tmp_path)]
    assert main(["demo", *argv]) == 0
    captured = capsys.readouterr()
    accuracy = float(re.search(r"accuracy ([\d.]+)%", captured.out).group(1))
    assert (accuracy < 55.0) is noted  # a tenth of the way from 50% to 100%
    assert ("hardly better than always answering the commonest class (50.0%)"
            in captured.err) is noted  # fmt: skip


@pytest.mark.parametrize(
    "losses, expected",
    [
        ([0.9, 0.01], False),
        ([0.9, 0.9], False),  # one epoch, or a run that learned nothing, did not diverge
        ([0.9, 4.2, 0.9 * DIVERGENCE_FACTOR], False),  # a rise on the way that settles back
        ([0.9, 0.9 * DIVERGENCE_FACTOR * 1.01], True),
        ([0.9, 1.6e46], True),
        ([0.9, float("inf")], True),
        ([0.9, float("nan")], True),
    ],
)
def test_divergence_means_a_last_loss_not_finite_or_far_above_the_first(losses, expected):
    assert diverged(losses) is expected


@pytest.mark.parametrize(
    "losses, reference, expected",
    [
        # a first epoch of small batches that blew up already: its mean is no start to go by
        ([648.6, 440.0], math.log(3), True),
        ([1.2, 1.1 * DIVERGENCE_FACTOR], 1.0, True),
        ([1.2, 0.9 * DIVERGENCE_FACTOR], 1.0, False),
        ([0.5, 0.5 * DIVERGENCE_FACTOR * 1.01], 1.0, True),  # the first epoch's, when smaller
    ],
)
def test_divergence_goes_by_outputs_of_zero_when_the_first_epoch_is_worse(
    losses, reference, expected
):
    assert diverged(losses, reference) is expected


def test_a_run_that_blew_up_within_its_first_epoch_says_so(tmp_path, capsys, monkeypatch):
    # per-sample steps at the default lr: 648.6 after the first epoch, 440 after the tenth,
    # where a network that outputs 0 scores ln 3 = 1.1; it was not reported
    monkeypatch.setattr(demo_module, "plot_boundary", lambda *args: None)
    monkeypatch.setattr(demo_module, "plot_history", lambda *args: None)
    monkeypatch.setattr(demo_module, "_write_drawings", lambda *args: [])
    argv = ["--dataset", "spirals", "--batch-size", "1", "--epochs", "10", "--no-progress"]
    assert main(["demo", *argv, "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "diverged" in captured.err and "outputs of 0 everywhere (1.099)" in captured.err


def test_help_states_the_limits_checked_before_training(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert "from 0 to 4294967295" in text  # --seed
    assert "checked before training" in text and "writable folder" in text  # --out
    assert (
        f"more than {DIVERGENCE_FACTOR:g} times the smaller of its first epoch's and that of "
        "outputs of 0 everywhere" in text
    )  # --lr
    assert "diverged" in text and "exit code stays 0" in text


def test_every_file_the_demo_writes_is_one_the_command_checks(demo_run):
    out, _ = demo_run
    assert {path.name for path in out.iterdir()} <= set(OUTPUT_NAMES)


@pytest.mark.parametrize("outputs", [1, 3])
def test_the_boundary_plot_scores_a_fine_grid_as_pytorch_does(outputs):
    from micrograd.nn import MLP, to_torch

    model = MLP(2, [8, outputs], activation="tanh", rng=random.Random(3))
    X = np.array([[-1.0, 0.5], [2.0, -0.25], [0.3, 1.5]])
    surface = decision_surface(model, X, size=40)
    assert surface.xs[0] == -1.5 and surface.xs[-1] == 2.5  # the data's range, padded by 0.5
    assert surface.ys[0] == -0.75 and surface.ys[-1] == 2.0
    grid_x, grid_y = np.meshgrid(surface.xs, surface.ys)
    points = torch.tensor(np.column_stack([grid_x.ravel(), grid_y.ravel()]))
    expected = to_torch(model)(points).detach().numpy()
    scores = surface.scores.reshape(len(points), -1)  # scores[i, j] is at (xs[j], ys[i])
    np.testing.assert_allclose(scores, expected.reshape(len(points), -1), rtol=1e-12, atol=1e-14)
    if outputs == 1:
        with pytest.raises(ValueError, match="needs k scores per point"):
            surface.probabilities()
    else:
        softmax = torch.softmax(torch.tensor(surface.scores), dim=-1).numpy()
        np.testing.assert_allclose(surface.probabilities(), softmax, rtol=1e-12, atol=1e-15)


INF, NAN = float("inf"), float("nan")


def _loss_axes(history: dict, tmp_path):
    import matplotlib.pyplot as plt

    figures = []
    original = plt.close
    with pytest.MonkeyPatch.context() as patch:  # keep the figure the plot would close
        patch.setattr(plt, "close", lambda figure=None: figures.append(figure))
        demo_module.plot_history(history, tmp_path / "loss_curve.png", "hinge")
    original(figures[0])
    assert (tmp_path / "loss_curve.png").read_bytes()[:8] == PNG_SIGNATURE
    return figures[0].axes


@pytest.mark.parametrize(
    "losses, dotted",
    [
        ([0.7], [0]),  # one epoch: a line of one point is not drawn at all
        ([0.7, 0.5, 0.4], None),  # an ordinary run: a line, no dots
        ([0.7, 3.0, INF, NAN, 5.0, NAN], [4]),  # diverged: 5.0 has no finite neighbour
        ([NAN, 0.7, NAN, 0.6, 0.5], [1]),
    ],
)
def test_a_loss_curve_dots_the_finite_losses_a_line_would_not_show(losses, dotted, tmp_path):
    loss_ax, accuracy_ax = _loss_axes({"loss": losses, "accuracy": [0.5] * len(losses)}, tmp_path)
    (line,) = loss_ax.lines
    assert (line.get_markevery() if line.get_marker() == "o" else None) == dotted
    assert loss_ax.get_yscale() == "log" and not loss_ax.texts
    ticks = [tick for tick in loss_ax.get_xticks() if 0.5 <= tick <= len(losses) + 0.5]
    assert ticks and all(tick == int(tick) for tick in ticks)  # epochs, not 0.96 to 1.04


def test_a_loss_curve_with_nothing_finite_says_so(tmp_path):
    loss_ax, _ = _loss_axes({"loss": [NAN, INF], "accuracy": [0.5, 0.5]}, tmp_path)
    assert [text.get_text() for text in loss_ax.texts] == ["no finite value to draw"]
    assert list(loss_ax.get_yticks()) == []


@pytest.mark.parametrize("outputs", [1, 3])
@pytest.mark.parametrize("compiled", [True, False])
def test_the_final_accuracy_predicts_as_pytorch_does(outputs, compiled):
    from micrograd.nn import MLP, to_torch

    model = MLP(2, [5, outputs], rng=random.Random(6))
    X = 3 * np.random.default_rng(4).normal(size=(300, 2))
    with torch.no_grad():
        scores = to_torch(model)(torch.from_numpy(X)).numpy()
    expected = (scores[:, 0] > 0).astype(int) if outputs == 1 else scores.argmax(axis=1)
    n_classes = 2 if outputs == 1 else outputs
    predicted = demo_module._predict(model, X, n_classes, compiled)
    assert predicted.tolist() == expected.tolist()
    assert len(set(expected.tolist())) == n_classes  # every class predicted somewhere


def test_a_failed_picture_is_one_line_and_leaves_the_callers_stdout_alone(
    tmp_path, capsys, monkeypatch
):
    # any OSError sent the caller's stdout (a file here) to /dev/null for good
    def full_disk(args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sys.modules["micrograd.nn.cli"], "demo", full_disk)
    with open(tmp_path / "stdout.txt", "w") as stdout:
        monkeypatch.setattr(sys, "stdout", stdout)
        assert main(["demo", *SMALL, "--out", str(tmp_path)]) == 1
        print("after main", file=stdout)
    assert (tmp_path / "stdout.txt").read_text() == "after main\n"
    assert capsys.readouterr().err == "micrograd demo: [Errno 28] No space left on device\n"


@pytest.mark.parametrize(
    "argv, parameters",
    [
        (["--layers", "3000,3000"], "9,015,001"),  # a MemoryError after minutes, or none at all
        (["--dataset", "spirals", "--layers", "600,600"], "364,203"),
        (["--dataset", "digits", "--model", "mlp", "--layers", "4000"], "300,010"),
        (["--dataset", "digits", "--layers", "64,512,512"], "2,661,002"),
    ],
)
def test_a_network_too_big_for_the_demo_is_refused_before_training(argv, parameters, capsys):
    message = _rejected(argv, capsys)
    assert f"argument --layers: the network would have {parameters} parameters" in message


@pytest.mark.parametrize(
    "dataset, model, layers",
    [("moons", "mlp", [16, 16]), ("spirals", "mlp", [5]), ("blobs", "mlp", [3, 4, 5]),
     ("digits", "mlp", [80]), ("digits", "cnn", [16, 32]), ("digits", "cnn", [4, 5, 6])],
)  # fmt: skip
def test_the_parameter_count_the_limit_checks_is_the_networks_own(dataset, model, layers):
    if dataset == "digits":
        network = digits_demo_module.build(model, layers, "relu", random.Random(0))
        assert digits_demo_module.parameter_count(model, layers) == len(network.parameters())
    else:
        n_classes = demo_module.DATASETS[dataset][1]
        network = nn.MLP(2, [*layers, 1 if n_classes == 2 else n_classes])
        assert demo_module.parameter_count(dataset, layers) == len(network.parameters())

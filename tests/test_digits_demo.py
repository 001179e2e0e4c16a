"""`micrograd demo --dataset digits` end to end: a CNN or an MLP trained on handwritten digits,
scored on held-out ones, and its pictures; and the usage errors the digits add."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from micrograd.nn import data, digits_demo, to_torch
from micrograd.nn.cli import main

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
QUICK = ["--samples", "200", "--epochs", "2"]


def _run(argv: list[str], out: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "micrograd.nn.cli", "demo", *argv, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _test_accuracy(stdout: str) -> float:
    found = re.findall(r"^test accuracy (\d+\.\d)%$", stdout, flags=re.MULTILINE)
    assert len(found) == 1, stdout
    return float(found[0])


@pytest.mark.parametrize("model", ["cnn", "mlp"])
def test_a_quick_run_trains_reports_and_writes_every_picture(model, tmp_path):
    stdout = _run(["--dataset", "digits", "--model", model, *QUICK, "--layers", "4"], tmp_path)
    assert 0.0 <= _test_accuracy(stdout) <= 100.0
    # 200 images, 160 to train on and 40 held out
    assert "160 training and 40 test images" in stdout
    assert "micrograd.compile" in stdout
    for name in digits_demo.OUTPUT_NAMES:
        path = tmp_path / name
        assert path.read_bytes()[:8] == PNG_SIGNATURE, name
        assert str(path) in stdout  # the demo says where each picture is


def test_the_reported_accuracy_is_pytorchs_on_the_held_out_digits(tmp_path, capsys):
    """The network the demo trained, copied into PyTorch, scores the same on the same 20%."""
    import matplotlib

    matplotlib.use("Agg")
    args = argparse.Namespace(
        dataset="digits", model="cnn", layers=[3], activation="relu", optimizer="adam",
        lr=None, epochs=2, batch_size=32, samples=300, seed=7, out=tmp_path, eager=False,
        no_progress=True,
    )  # fmt: skip
    network = digits_demo.digits_demo(args)
    X, y = data.load_digits()
    X, _, y, _ = data.train_test_split(X, y, test_size=1797 - 300, seed=7)
    _, X_test, _, y_test = data.train_test_split(X, y, test_size=0.2, seed=7)
    with torch.no_grad():
        scores = to_torch(network)(torch.tensor(X_test))
    right = float(np.mean(scores.argmax(dim=1).numpy() == y_test))
    assert _test_accuracy(capsys.readouterr().out) == pytest.approx(100 * right, abs=0.05)


@pytest.mark.slow
def test_the_default_cnn_reaches_97_percent_on_held_out_digits(tmp_path):
    stdout = _run(["--dataset", "digits", "--no-progress"], tmp_path)
    assert "CNN(" in stdout and "30 epochs" in stdout
    assert _test_accuracy(stdout) >= 97.0


def _rejected(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", *argv])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # stopped before training
    return captured.err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--model", "cnn"], "argument --model: cnn needs images: use --dataset digits"),
        (["--dataset", "spirals", "--model", "cnn"], "not spirals"),
        (["--dataset", "digits", "--samples", "19"], "choose from 20 to 1797, got 19"),
        (["--dataset", "digits", "--samples", "1798"], "choose from 20 to 1797, got 1798"),
        (["--dataset", "digits", "--layers", "4,4,4,4"], "at most 3 blocks"),
        (["--dataset", "digits", "--model", "rnn"], "argument --model: invalid choice"),
    ],
)
def test_bad_digit_options_are_usage_errors(argv, message, tmp_path, capsys):
    error = _rejected([*argv, "--out", str(tmp_path / "out")], capsys)
    assert "micrograd demo: error:" in error and message in error
    assert not (tmp_path / "out").exists()


def test_digits_without_sklearn_is_a_usage_error_naming_what_to_install(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    error = _rejected(["--dataset", "digits", "--out", str(tmp_path)], capsys)
    assert "needs scikit-learn" in error and "pip install scikit-learn" in error


def test_help_explains_the_digits_options(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for words in ("--model", "digits", "cnn", "test accuracy NN.N%", "confusion matrix",
                  "feature maps", "misclassified", "scikit-learn"):  # fmt: skip
        assert words in text, words


def test_a_folder_in_place_of_a_digits_picture_is_refused(tmp_path, capsys):
    (tmp_path / "confusion_matrix.png").mkdir()
    error = _rejected(["--dataset", "digits", "--out", str(tmp_path)], capsys)
    assert "confusion_matrix.png" in error


def test_an_mlp_with_a_hidden_layer_of_one_unit_draws_its_pictures(tmp_path, capsys):
    argv = ["--dataset", "digits", "--model", "mlp", "--layers", "1", *QUICK, "--no-progress"]
    assert main(["demo", *argv, "--out", str(tmp_path)]) == 0  # was 'Value' is not iterable
    for name in digits_demo.OUTPUT_NAMES:
        assert (tmp_path / name).read_bytes()[:8] == PNG_SIGNATURE, name


def test_a_diverged_digits_run_says_so(tmp_path, capsys):
    argv = ["--dataset", "digits", "--model", "mlp", "--optimizer", "sgd", "--lr", "1e300"]
    assert main(["demo", *argv, *QUICK, "--no-progress", "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "test loss nan" in captured.out  # printed without a word before
    assert "warning: training diverged" in captured.err and "--lr below 1e+300" in captured.err


def test_ctrl_c_is_one_line_and_exit_code_130(tmp_path, capsys, monkeypatch):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(digits_demo, "digits_demo", interrupted)
    assert main(["demo", "--dataset", "digits", *QUICK, "--out", str(tmp_path)]) == 130
    assert capsys.readouterr().err == "micrograd demo: interrupted\n"  # a traceback before


def test_a_picture_interrupted_while_written_keeps_the_old_one(tmp_path, monkeypatch):
    import os

    from micrograd.nn import demo_plots

    path = tmp_path / "loss_curve.png"
    path.write_bytes(b"the old picture")

    def crash(*args):
        raise KeyboardInterrupt  # Ctrl-C as the new file was put in place

    monkeypatch.setattr(os, "replace", crash)
    history = {"loss": [1.0, 0.5], "accuracy": [0.5, 0.75]}
    with pytest.raises(KeyboardInterrupt):
        demo_plots.plot_history(history, path, "hinge")  # savefig wrote the path, in part
    assert path.read_bytes() == b"the old picture"
    assert [p.name for p in tmp_path.iterdir()] == ["loss_curve.png"]


def test_curves_of_one_epoch_or_of_no_finite_loss_still_show_something():
    import matplotlib.pyplot as plt
    from micrograd.nn.digits_plots import plot_curves

    nan = float("nan")
    one = plot_curves({"loss": [2.3], "val_loss": [2.1], "accuracy": [0.3], "val_accuracy": [0.4]})
    loss_ax, accuracy_ax = one.axes
    assert [line.get_markevery() for line in loss_ax.lines + accuracy_ax.lines] == [[0]] * 4
    diverged = plot_curves(
        {
            "loss": [nan, nan],
            "val_loss": [nan, nan],
            "accuracy": [0.1] * 2,
            "val_accuracy": [0.1] * 2,
        }
    )
    assert [text.get_text() for text in diverged.axes[0].texts] == ["no finite value to draw"]
    plt.close(one)
    plt.close(diverged)


def test_a_loss_within_one_decade_is_labelled_with_plain_numbers():
    # matplotlib labelled its ticks "2.6x10^0" (as mathtext), the toy demo's plot did not
    import matplotlib.pyplot as plt
    from micrograd.nn.digits_plots import plot_curves

    history = {"loss": [2.8, 2.6, 2.3, 2.1], "val_loss": [2.9, 2.7, 2.4, 2.3],
               "accuracy": [0.1, 0.2, 0.3, 0.4], "val_accuracy": [0.1, 0.2, 0.2, 0.3]}  # fmt: skip
    figure = plot_curves(history)
    figure.canvas.draw()
    loss_ax = figure.axes[0]
    labels = [label.get_text() for label in loss_ax.get_yticklabels(minor=True)]
    shown = [label for label in labels if label]
    assert shown and not any("times" in label for label in shown)
    assert {float(label) for label in shown} >= {2.2, 2.5, 2.8}
    plt.close(figure)
